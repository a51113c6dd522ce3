/**
 * A client of the daemon's control API for scripts and tests: the same typed, validated bridge the
 * UI uses, over a WebSocket from Node.
 */
import WebSocket from 'ws';
import { createBridge } from '../../preload/client.ts';
import type { WireError } from '../../preload/contract-kit.ts';
import type { CosignerBridge } from '../../preload/contract.ts';
import { CONTROL_API_VERSION, CONTROL_PATH, ServerFrame } from '../../preload/control-wire.ts';
import { CosignerError } from '../errors.ts';

export interface ControlClient {
  bridge: CosignerBridge;
  close(): void;
}

type Reply = { ok: true; result: unknown } | { ok: false; error: WireError };

/** How long a client waits for the daemon's hello: a daemon older than the hello never sends one. */
const HELLO_TIMEOUT_MS = 10_000;

/**
 * `url` is what `cosigner serve` prints: http://127.0.0.1:PORT/#token=... Resolves once the daemon
 * said it speaks this client's version (CONTROL_API_VERSION); otherwise rejects with
 * UNSUPPORTED_VERSION and closes.
 */
export async function connectControl(url: string): Promise<ControlClient> {
  const page = new URL(url);
  const token = new URLSearchParams(page.hash.slice(1)).get('token') ?? '';
  const ws = new WebSocket(`ws://${page.host}${CONTROL_PATH}?token=${encodeURIComponent(token)}`);
  // Listening from the start: frames that follow the hello in the same read are not lost.
  const pending = new Map<number, (reply: Reply) => void>();
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  let nextId = 1;
  ws.on('message', (data) => {
    const parsed = ServerFrame.safeParse(safeJson(data.toString()));
    if (!parsed.success) return;
    const frame = parsed.data;
    if (frame.type === 'event') {
      for (const l of listeners.get(frame.event) ?? []) l(frame.payload);
    } else if (frame.type !== 'hello' && frame.id !== null) {
      pending.get(frame.id)?.(frame.type === 'result' ? { ok: true, result: frame.result } : { ok: false, error: frame.error });
      pending.delete(frame.id);
    }
  });
  ws.on('close', () => {
    for (const settle of pending.values()) settle({ ok: false, error: { code: 'NOT_RUNNING', message: 'connection closed' } });
    pending.clear();
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(unsupported('the daemon did not say its control API version: it is older than this client')),
        HELLO_TIMEOUT_MS,
      );
      const settle = (error?: Error) => {
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
      ws.once('message', (data) => {
        const hello = ServerFrame.safeParse(safeJson(data.toString()));
        if (!hello.success || hello.data.type !== 'hello')
          return settle(unsupported('the daemon did not open with its control API version'));
        if (hello.data.version !== CONTROL_API_VERSION) {
          return settle(
            unsupported(`the daemon speaks control API version ${hello.data.version}; this client speaks version ${CONTROL_API_VERSION}`),
          );
        }
        settle();
      });
      ws.once('unexpected-response', (_req, res) => settle(new Error(`control API refused the connection: HTTP ${res.statusCode}`)));
      ws.once('error', settle);
      ws.once('close', () => settle(new Error('the control API closed the connection before saying its version')));
    });
  } catch (e) {
    ws.terminate();
    throw e;
  }
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

function unsupported(message: string): CosignerError {
  return new CosignerError('UNSUPPORTED_VERSION', message, { version: CONTROL_API_VERSION });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
