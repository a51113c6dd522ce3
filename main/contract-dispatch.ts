/**
 * One place where a request that crossed a process boundary (Electron IPC or the WebSocket control
 * API) is checked and run: the name must be in the contract, the arguments must parse against its
 * schema, and the result is parsed against its schema too, so nothing the contract does not name
 * (a secret in a stray field, say) can leave the back end.
 */
import type { z } from 'zod';
import type { HandlersOf, RequestTable, WireError } from '../preload/contract-kit.ts';
import { CosignerError, isCosignerError } from './errors.ts';

export type Dispatcher = (method: string, rawArgs: unknown) => Promise<unknown>;

export function createDispatcher<T extends RequestTable>(
  requests: T,
  handlers: HandlersOf<T>,
  onInternalError: (method: string, error: unknown) => void,
): Dispatcher {
  return async (method, rawArgs) => {
    if (!Object.hasOwn(requests, method)) {
      throw new CosignerError('INVALID_INPUT', `unknown request "${method.slice(0, 64)}"`);
    }
    const spec = requests[method]!;
    const parsed = spec.args.safeParse(rawArgs ?? {});
    if (!parsed.success) {
      throw new CosignerError('INVALID_INPUT', `invalid arguments for ${method}: ${summarizeIssues(parsed.error)}`, { method });
    }
    const handler = handlers[method as keyof T]!;
    let result: unknown;
    try {
      result = await handler(parsed.data as never);
    } catch (error) {
      if (isCosignerError(error)) throw error;
      onInternalError(method, error);
      throw new CosignerError('INTERNAL', `${method} failed unexpectedly`, { method });
    }
    const checked = spec.result.safeParse(result);
    if (!checked.success) {
      onInternalError(method, checked.error);
      throw new CosignerError('INTERNAL', `${method} produced a result outside the contract`, { method });
    }
    return checked.data;
  };
}

export function toWireError(error: unknown): WireError {
  if (isCosignerError(error)) {
    const context: NonNullable<WireError['context']> = {};
    for (const [k, v] of Object.entries(error.context)) if (v !== undefined) context[k] = v;
    return { code: error.code, message: error.message, context };
  }
  return { code: 'INTERNAL', message: 'internal error' };
}

export function summarizeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}
