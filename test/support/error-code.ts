/**
 * The typed code a call fails with, for tests that compare codes: a failure that is not a
 * CosignerError is thrown on, and no failure at all is an error of the test.
 */
import { isCosignerError } from '../../main/errors.ts';

function codeOfError(e: unknown): string {
  if (isCosignerError(e)) return e.code;
  throw e;
}

export function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return codeOfError(e);
  }
  throw new Error('expected a failure');
}

export async function codeOfAsync(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (e) {
    return codeOfError(e);
  }
  throw new Error('expected a failure');
}
