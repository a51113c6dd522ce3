/** The real clock, timers and CSPRNG, for the daemon and Electron (tests inject their own). */
import type { Clock, Random, Scheduler, TimerHandle } from './session/ports.ts';

/** The OS CSPRNG, the default wherever a Random port is not injected. */
export const systemRandom: Random = { bytes: (n) => crypto.getRandomValues(new Uint8Array(n)) };

export const systemClock: Clock = { now: () => Date.now() };

/** Real timers, unref'd so that a pending timer never keeps a stopping process alive. */
export function createSystemScheduler(): Scheduler {
  const timers = new Map<number, NodeJS.Timeout>();
  let next = 1;
  const track = (timer: NodeJS.Timeout): TimerHandle => {
    const id = next++;
    timer.unref();
    timers.set(id, timer);
    return { id };
  };
  return {
    setTimeout(fn, ms) {
      let handle: TimerHandle | undefined = undefined;
      const timer = setTimeout(() => {
        if (handle) timers.delete(handle.id);
        fn();
      }, ms);
      handle = track(timer);
      return handle;
    },
    setInterval(fn, ms) {
      return track(setInterval(fn, ms));
    },
    clear(handle) {
      const timer = timers.get(handle.id);
      if (timer) clearTimeout(timer);
      timers.delete(handle.id);
    },
  };
}
