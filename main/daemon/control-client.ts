/**
 * A client of the daemon's control API for scripts and tests: the same typed, validated bridge the
 * UI uses, over a WebSocket from Node.
 */
import WebSocket from 'ws';
import { createBridge } from '../../preload/client.ts';
import type { WireError } from '../../preload/contract-kit.ts';
import type { CosignerBridge } from '../../preload/contract.ts';
import { CONTROL_PATH, ServerFrame } from '../../preload/control-wire.ts';

export interface ControlClient {
  bridge: CosignerBridge;
  close(): void;
}

type Reply = { ok: true; result: unknown } | { ok: false; error: WireError };

/** `url` is what `cosigner serve` prints: http://127.0.0.1:PORT/#token=... */
export async function connectControl(url: string): Promise<ControlClient> {
  const page = new URL(url);
  const token = new URLSearchParams(page.hash.slice(1)).get('token') ?? '';
  const ws = new WebSocket(`ws://${page.host}${CONTROL_PATH}?token=${encodeURIComponent(token)}`);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`control API refused the connection: HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
  const pending = new Map<number, (reply: Reply) => void>();
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  let nextId = 1;
  ws.on('message', (data) => {
    const parsed = ServerFrame.safeParse(JSON.parse(data.toString()));
    if (!parsed.success) return;
    const frame = parsed.data;
    if (frame.type === 'event') {
      for (const l of listeners.get(frame.event) ?? []) l(frame.payload);
    } else if (frame.id !== null) {
      pending.get(frame.id)?.(frame.type === 'result' ? { ok: true, result: frame.result } : { ok: false, error: frame.error });
      pending.delete(frame.id);
    }
  });
  ws.on('close', () => {
    for (const settle of pending.values()) settle({ ok: false, error: { code: 'NOT_RUNNING', message: 'connection closed' } });
    pending.clear();
  });
  const bridge = createBridge({
    invoke: (name, args) =>
      new Promise<Reply>((resolve) => {
        if (ws.readyState !== WebSocket.OPEN) return resolve({ ok: false, error: { code: 'NOT_RUNNING', message: 'not connected' } });
        const id = nextId++;
        pending.set(id, resolve);
        ws.send(JSON.stringify({ type: 'call', id, method: name, args }));
      }),
    listen: (name, listener) => {
      let set = listeners.get(name);
      if (!set) listeners.set(name, (set = new Set()));
      set.add(listener);
      return () => set.delete(listener);
    },
  });
  return { bridge, close: () => ws.close() };
}
