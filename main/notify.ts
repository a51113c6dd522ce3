/**
 * Calls every listener with `args`. A listener that throws fails alone: the emitter and the other
 * listeners carry on, so one broken subscriber (a UI window, a coordinator) cannot stop the rest;
 * its error goes to `onError` (which counts and logs it), not to the emitter.
 */
export function notifyAll<A extends unknown[]>(
  listeners: Iterable<(...args: A) => void>,
  onError: (error: unknown) => void,
  ...args: A
): void {
  for (const listener of listeners) {
    try {
      listener(...args);
    } catch (error) {
      onError(error);
    }
  }
}
