import type { BridgeCarrier } from '../../../preload/client.ts';
import type { WireError } from '../../../preload/contract-kit.ts';
import { CONTROL_PATH, ServerFrame } from '../../../preload/control-wire.ts';

type Reply = { ok: true; result: unknown } | { ok: false; error: WireError };

export type ConnectionState = 'connecting' | 'open' | 'closed';

/**
 * The headless carrier: the daemon's WebSocket control API on the page's own origin, with the
 * token from the URL fragment. Reconnects with backoff; calls made while disconnected fail at once
 * with a code the UI can show, rather than hanging.
 */
export function websocketCarrier(token: string, onState: (state: ConnectionState) => void = () => {}): BridgeCarrier {
  const pending = new Map<number, (reply: Reply) => void>();
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  let nextId = 1;
  let socket: WebSocket | undefined;
  let opened: Promise<void> = Promise.resolve();
  let retryMs = 250;

  const connect = () => {
    onState('connecting');
    const ws = new WebSocket(`ws://${location.host}${CONTROL_PATH}?token=${encodeURIComponent(token)}`);
    socket = ws;
    opened = new Promise((resolve) => {
      ws.addEventListener('open', () => {
        retryMs = 250;
        onState('open');
        resolve();
      });
      ws.addEventListener('close', () => resolve());
    });
    ws.addEventListener('message', (msg) => {
      let frame: ServerFrame;
      try {
        frame = ServerFrame.parse(JSON.parse(String(msg.data)));
      } catch {
        return;
      }
      if (frame.type === 'event') {
        for (const l of listeners.get(frame.event) ?? []) l(frame.payload);
      } else if (frame.id !== null) {
        const settle = pending.get(frame.id);
        pending.delete(frame.id);
        settle?.(frame.type === 'result' ? { ok: true, result: frame.result } : { ok: false, error: frame.error });
      }
    });
    ws.addEventListener('close', () => {
      onState('closed');
      for (const settle of pending.values()) settle({ ok: false, error: { code: 'NOT_RUNNING', message: 'lost the connection to Cosigner' } });
      pending.clear();
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 5000);
    });
  };
  connect();

  return {
    async invoke(name, args) {
      await opened;
      const ws = socket;
      if (!ws || ws.readyState !== WebSocket.OPEN) {
        return { ok: false, error: { code: 'NOT_RUNNING', message: 'not connected to Cosigner' } };
      }
      const id = nextId++;
      return new Promise<Reply>((resolve) => {
        pending.set(id, resolve);
        ws.send(JSON.stringify({ type: 'call', id, method: name, args }));
      });
    },
    listen(name, listener) {
      let set = listeners.get(name);
      if (!set) listeners.set(name, (set = new Set()));
      set.add(listener);
      return () => set.delete(listener);
    },
  };
}
