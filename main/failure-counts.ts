/**
 * Failures of work nobody awaits (a background card republish, an event listener): nothing can be
 * done about one where it happens, but it must not vanish. Each is counted by where it happened (the
 * names are fixed in the code, so the table stays small) for health.get, and logged: the first time
 * and then at each doubling, so that one failing every few seconds cannot flood the log.
 */
export class FailureCounts {
  readonly #counts = new Map<string, number>();
  readonly #log: (line: string) => void;

  constructor(log: (line: string) => void = (line) => console.error(line)) {
    this.#log = log;
  }

  record(where: string, error: unknown): void {
    const n = (this.#counts.get(where) ?? 0) + 1;
    this.#counts.set(where, n);
    if ((n & (n - 1)) === 0) this.#log(`${where} failed (${n} so far): ${error instanceof Error ? error.message : String(error)}`);
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.#counts);
  }
}
