/**
 * A fake wall clock and scheduler for the tests: time only moves when the test says so, and a
 * `settle` callback runs between timer firings so that async work they start completes in order.
 */
import type { Clock, Scheduler, TimerHandle } from '../../main/session/ports.ts';

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
  every: number | undefined;
}

export class FakeTime implements Clock, Scheduler {
  #now: number;
  #nextId = 1;
  #seq = 0;
  readonly #timers = new Map<number, Timer>();

  constructor(start = Date.UTC(2025, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.#add(fn, ms, undefined);
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    if (!(ms > 0)) throw new Error('interval must be positive');
    return this.#add(fn, ms, ms);
  }

  clear(handle: TimerHandle): void {
    this.#timers.delete(handle.id);
  }

  get pendingTimers(): number {
    return this.#timers.size;
  }

  /** Time of the next timer, if any. */
  nextAt(): number | undefined {
    return this.#next()?.[1].at;
  }

  /** Fires the earliest timer (ties in creation order), moving time to it. */
  fireNext(): boolean {
    const next = this.#next();
    if (!next) return false;
    const [id, timer] = next;
    this.#now = Math.max(this.#now, timer.at);
    if (timer.every === undefined) this.#timers.delete(id);
    else {
      timer.at += timer.every;
      timer.seq = this.#seq++;
    }
    timer.fn();
    return true;
  }

  /** Moves time forward by `ms`, firing due timers in order, settling after each. */
  async advance(ms: number, settle: () => Promise<void> = settleMicrotasks): Promise<void> {
    const end = this.#now + ms;
    await settle();
    for (let at = this.nextAt(); at !== undefined && at <= end; at = this.nextAt()) {
      this.fireNext();
      await settle();
    }
    this.#now = end;
    await settle();
  }

  /** A view of this scheduler whose timers all die with `kill()`, as a process's do when it crashes. */
  scope(): Scheduler & { kill(): void } {
    const owned = new Set<number>();
    let dead = false;
    const track = (handle: TimerHandle): TimerHandle => {
      owned.add(handle.id);
      return handle;
    };
    return {
      setTimeout: (fn, ms) => track(this.setTimeout(() => !dead && fn(), ms)),
      setInterval: (fn, ms) => track(this.setInterval(() => !dead && fn(), ms)),
      clear: (handle) => {
        owned.delete(handle.id);
        this.clear(handle);
      },
      kill: () => {
        dead = true;
        for (const id of owned) this.clear({ id });
        owned.clear();
      },
    };
  }

  #add(fn: () => void, ms: number, every: number | undefined): TimerHandle {
    const id = this.#nextId++;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn, every });
    return { id };
  }

  #next(): [number, Timer] | undefined {
    let best: [number, Timer] | undefined;
    for (const entry of this.#timers) {
      const t = entry[1];
      if (!best || t.at < best[1].at || (t.at === best[1].at && t.seq < best[1].seq)) best = entry;
    }
    return best;
  }
}

/** Lets pending promise callbacks and I/O completions run (a macrotask turn, not a sleep). */
export async function settleMicrotasks(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
}
