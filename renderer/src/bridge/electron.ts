import type { BridgeCarrier } from '../../../preload/client.ts';
import { EXPOSED_API_KEY, type ExposedApi } from '../../../preload/ipc.ts';

/** The Electron carrier: the methods the preload script exposed on `window.cosigner`. */
export function electronCarrier(): BridgeCarrier | undefined {
  const api = (window as unknown as Record<string, ExposedApi | undefined>)[EXPOSED_API_KEY];
  if (!api) return undefined;
  return {
    invoke: (name, args) => {
      const method = api.requests[name];
      if (!method) return Promise.resolve({ ok: false, error: { code: 'INVALID_INPUT', message: `unknown request ${name}` } });
      return method(args);
    },
    listen: (name, listener) => api.events[name]?.(listener) ?? (() => {}),
  };
}
