import type { BridgeCarrier } from '../../../preload/client.ts';
import type { WireError } from '../../../preload/contract-kit.ts';
import { CONTROL_API_VERSION, CONTROL_PATH, ServerFrame } from '../../../preload/control-wire.ts';

type Reply = { ok: true; result: unknown } | { ok: false; error: WireError };

/** `unauthorized`: the daemon refused the token; reconnecting cannot help, the printed URL can.
 *  `unsupported`: the daemon speaks another control API version (its hello); reloading the page can. */
export type ConnectionState = 'connecting' | 'open' | 'closed' | 'unauthorized' | 'unsupported';

const REFUSED: Reply = {
  ok: false,
  error: { code: 'UNAUTHORIZED', message: 'the daemon refused the token in the address' },
};

/**
 * The headless carrier: the daemon's WebSocket control API on the page's own origin, with the
 * token the daemon printed. Reconnects with backoff; calls made while disconnected fail at once
 * with a code the UI can show, rather than hanging. A connection that fails before opening asks the
 * daemon over HTTP whether the token was the reason (a browser cannot see the upgrade's 401): then
 * it stops, in state `unauthorized`, instead of retrying for ever.
 */
export function websocketCarrier(token: string, onState: (state: ConnectionState) => void = () => {}): BridgeCarrier {
  const pending = new Map<number, (reply: Reply) => void>();
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  let nextId = 1;
  let socket: WebSocket | undefined;
  let opened: Promise<void> = Promise.resolve();
  let retryMs = 250;
  let refused = token === '';
  let otherVersion: number | undefined;

  const connect = () => {
    onState('connecting');
    const ws = new WebSocket(`ws://${location.host}${CONTROL_PATH}?token=${encodeURIComponent(token)}`);
    socket = ws;
    let wasOpen = false;
    opened = new Promise((resolve) => {
      ws.addEventListener('open', () => {
        wasOpen = true;
        retryMs = 250;
        onState('open');
        resolve();
      });
      // A call made while connecting waits for the outcome, the token's refusal included.
      ws.addEventListener('close', () => {
        for (const settle of pending.values())
          settle({ ok: false, error: { code: 'NOT_RUNNING', message: 'lost the connection to Cosigner' } });
        pending.clear();
        if (otherVersion !== undefined) {
          resolve();
          return;
        }
        if (wasOpen) {
          retry();
          resolve();
          return;
        }
        void tokenRefused(token).then((isRefused) => {
          if (isRefused) {
            refused = true;
            onState('unauthorized');
          } else {
            retry();
          }
          resolve();
        });
      });
    });
    ws.addEventListener('message', (msg) => {
      let frame: ServerFrame;
      try {
        frame = ServerFrame.parse(JSON.parse(String(msg.data)));
      } catch {
        console.warn('a frame from the daemon was dropped: not a control API frame');
        return;
      }
      if (frame.type === 'hello') {
        if (frame.version !== CONTROL_API_VERSION) {
          otherVersion = frame.version;
          onState('unsupported');
          ws.close();
        }
      } else if (frame.type === 'event') {
        for (const l of listeners.get(frame.event) ?? []) l(frame.payload);
      } else if (frame.id !== null) {
        const settle = pending.get(frame.id);
        pending.delete(frame.id);
        settle?.(frame.type === 'result' ? { ok: true, result: frame.result } : { ok: false, error: frame.error });
      }
    });
  };
  const retry = () => {
    onState('closed');
    setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, 5000);
  };
  if (refused) onState('unauthorized');
  else connect();

  return {
    async invoke(name, args) {
      await opened;
      if (refused) return REFUSED;
      if (otherVersion !== undefined) {
        return {
          ok: false,
          error: {
            code: 'UNSUPPORTED_VERSION',
            message: `Cosigner speaks control API version ${otherVersion}; this page speaks version ${CONTROL_API_VERSION}`,
          },
        };
      }
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

/** Whether the daemon answers that `token` is not its token; false when it cannot be asked (it is down). */
async function tokenRefused(token: string): Promise<boolean> {
  try {
    const response = await fetch(`${CONTROL_PATH}?token=${encodeURIComponent(token)}`, { cache: 'no-store' });
    return response.status === 401;
  } catch {
    return false;
  }
}
