/**
 * The preload script, bundled to one CommonJS file (a sandboxed preload cannot load modules).
 * It exposes exactly one method per contract request and one subscribe function per event, each
 * checking what crosses; the renderer never sees `ipcRenderer`.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { issueText } from './client.ts';
import { events, requests } from './contract.ts';
import { EVENT_CHANNEL, EXPOSED_API_KEY, requestChannel, type ExposedApi, type IpcReply } from './ipc.ts';

const api: ExposedApi = { requests: {}, events: {} };

for (const [name, spec] of Object.entries(requests)) {
  api.requests[name] = async (args: unknown): Promise<IpcReply> => {
    const parsed = spec.args.safeParse(args ?? {});
    if (!parsed.success) {
      return { ok: false, error: { code: 'INVALID_INPUT', message: `invalid arguments for ${name}` } };
    }
    return (await ipcRenderer.invoke(requestChannel(name), parsed.data)) as IpcReply;
  };
}

for (const [name, schema] of Object.entries(events)) {
  api.events[name] = (listener) => {
    const handler = (_event: IpcRendererEvent, eventName: unknown, payload: unknown) => {
      if (eventName !== name) return;
      const parsed = schema.safeParse(payload);
      if (parsed.success) listener(parsed.data);
      else console.warn(`event ${name} dropped: outside the contract (${issueText(parsed.error.issues)})`);
    };
    ipcRenderer.on(EVENT_CHANNEL, handler);
    return () => {
      ipcRenderer.removeListener(EVENT_CHANNEL, handler);
    };
  };
}

contextBridge.exposeInMainWorld(EXPOSED_API_KEY, api);
