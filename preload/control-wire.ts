/**
 * Frames of the daemon's WebSocket control API (JSON text frames). The Electron bridge does not use
 * them: IPC carries calls and events natively. See docs/API.md.
 */
import { z } from 'zod';
import { WireError } from './contract-kit.ts';

export const CallId = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

export const ClientFrame = z.object({
  type: z.literal('call'),
  id: CallId,
  method: z.string().min(1).max(64),
  args: z.unknown(),
});
export type ClientFrame = z.infer<typeof ClientFrame>;

/**
 * The control API's version. The daemon's first frame on every connection says it (`hello`); a
 * client that speaks another version stops there with UNSUPPORTED_VERSION. Raised on any change a
 * client of the previous version would misread (frames, or requests and events of the contract).
 */
export const CONTROL_API_VERSION = 1;

export const ServerFrame = z.discriminatedUnion('type', [
  z.object({ type: z.literal('hello'), version: z.number().int().positive() }),
  z.object({ type: z.literal('result'), id: CallId, result: z.unknown() }),
  z.object({ type: z.literal('error'), id: CallId.nullable(), error: WireError }),
  z.object({ type: z.literal('event'), event: z.string().max(64), payload: z.unknown() }),
]);
export type ServerFrame = z.infer<typeof ServerFrame>;

/** Path of the WebSocket endpoint; the token travels as `?token=` (loopback only). */
export const CONTROL_PATH = '/api';
export const MAX_CONTROL_FRAME_BYTES = 4 * 1024 * 1024;
