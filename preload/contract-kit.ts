/**
 * The machinery of the contract: how a request and an event are declared, and the types derived
 * from a declaration. No Node or Electron API here: main, preload and renderer all import it.
 */
import { z } from 'zod';
import { ERROR_CODES, type ErrorCode } from './error-codes.ts';

export type RequestSpec<A extends z.ZodType, R extends z.ZodType> = { args: A; result: R };

export function request<A extends z.ZodType, R extends z.ZodType>(args: A, result: R): RequestSpec<A, R> {
  return { args, result };
}

export type RequestTable = Record<string, RequestSpec<z.ZodType, z.ZodType>>;
export type EventTable = Record<string, z.ZodType>;

export type ArgsOf<T extends RequestTable, K extends keyof T> = z.input<T[K]['args']>;
export type ResultOf<T extends RequestTable, K extends keyof T> = z.output<T[K]['result']>;
export type PayloadOf<T extends EventTable, K extends keyof T> = z.output<T[K]>;

/** The back end implements one handler per request, receiving validated arguments. */
export type HandlersOf<T extends RequestTable> = {
  [K in keyof T]: (args: z.output<T[K]['args']>) => Promise<ResultOf<T, K>>;
};

/** What a UI sees of the back end, whatever carries it (Electron IPC or the WebSocket control API). */
export interface BridgeOf<T extends RequestTable, E extends EventTable> {
  call<K extends keyof T & string>(name: K, args: ArgsOf<T, K>): Promise<ResultOf<T, K>>;
  subscribe<K extends keyof E & string>(event: K, listener: (payload: PayloadOf<E, K>) => void): () => void;
}

/** Errors cross the boundary as data; `code` is stable and the UI maps it to words. */
export const WireError = z.object({
  code: z.enum(ERROR_CODES),
  message: z.string().max(2000),
  context: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
});
export type WireError = z.infer<typeof WireError>;

/** Thrown on the UI side when the back end answered with an error. */
export class BridgeError extends Error {
  readonly code: ErrorCode;
  readonly context: WireError['context'];
  constructor(error: WireError) {
    super(error.message);
    this.name = 'BridgeError';
    this.code = error.code;
    this.context = error.context;
  }
}
