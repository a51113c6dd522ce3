/**
 * How the contract travels over Electron IPC. Errors do not survive `ipcRenderer.invoke` or the
 * context bridge with their code, so every reply is an envelope that says which it is.
 */
import type { WireError } from './contract-kit.ts';

export const REQUEST_CHANNEL_PREFIX = 'cosigner:request:';
export const EVENT_CHANNEL = 'cosigner:event';

export function requestChannel(name: string): string {
  return REQUEST_CHANNEL_PREFIX + name;
}

export type IpcReply = { ok: true; result: unknown } | { ok: false; error: WireError };

/** What the preload script exposes on `window.cosigner`: one method per request, one subscribe per event. */
export interface ExposedApi {
  requests: Record<string, (args: unknown) => Promise<IpcReply>>;
  events: Record<string, (listener: (payload: unknown) => void) => () => void>;
}

export const EXPOSED_API_KEY = 'cosigner';
