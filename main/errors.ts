/**
 * One error type for the whole back end. `code` is stable and is what the UI maps to words;
 * `message` is for logs and developers; `context` carries the facts that explain it (never secrets).
 */
// The list lives with the contract (which may not import main/): the codes are part of the wire.
export { ERROR_CODES, type ErrorCode } from '../preload/error-codes.ts';
import type { ErrorCode } from '../preload/error-codes.ts';

export type ErrorContext = Record<string, string | number | boolean | null | undefined>;

export class CosignerError extends Error {
  readonly code: ErrorCode;
  readonly context: ErrorContext;

  constructor(code: ErrorCode, message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CosignerError';
    this.code = code;
    this.context = context;
  }

  toJSON(): { code: ErrorCode; message: string; context: ErrorContext } {
    return { code: this.code, message: this.message, context: this.context };
  }
}

export function isCosignerError(e: unknown, code?: ErrorCode): e is CosignerError {
  return e instanceof CosignerError && (code === undefined || e.code === code);
}
