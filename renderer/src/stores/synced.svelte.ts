/**
 * A value the back end owns, kept current by one event and loaded by one request. The event is
 * subscribed before the load starts so no change is lost between the two; since these values carry
 * no version, an event that arrives while the load is in flight wins over the load's answer (any
 * later change brings its own event).
 */
export class Synced<T> {
  value: T | undefined = $state.raw(undefined);
  error: unknown = $state.raw(null);
  #changes = 0;
  readonly #subscribe: (set: (value: T) => void) => () => void;
  readonly #load: () => Promise<T>;

  constructor(subscribe: (set: (value: T) => void) => () => void, load: () => Promise<T>) {
    this.#subscribe = subscribe;
    this.#load = load;
  }

  /** Subscribes, then loads; returns the unsubscribe. */
  start(): () => void {
    const off = this.#subscribe((value) => this.set(value));
    void this.reload();
    return off;
  }

  async reload(): Promise<void> {
    const changesAtStart = this.#changes;
    try {
      const value = await this.#load();
      if (this.#changes === changesAtStart) this.value = value;
      this.error = null;
    } catch (error) {
      this.error = error;
    }
  }

  /** A value known to be current: from an event, or the answer to a change the user made. */
  set(value: T): void {
    this.#changes++;
    this.value = value;
    this.error = null;
  }
}
