/**
 * Runs async operations one after another, in call order. A failed operation does not stop the
 * ones queued behind it. The chain holds only the latest promise, so it never grows.
 */
export function serial(): <T>(operation: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(operation: () => Promise<T>): Promise<T> => {
    const run = tail.then(operation, operation);
    // The failure reaches its caller through `run`; the chain only needs to know it is over.
    tail = run.catch(() => undefined);
    return run;
  };
}
