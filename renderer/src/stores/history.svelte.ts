import type { CosignerBridge, SessionSummary } from '../../../preload/contract.ts';

/** Sessions asked for per page: one screenful and some. */
export const HISTORY_PAGE = 50;

/**
 * The stored sessions for the history screen, a page at a time from the back end's index
 * (sessions.history): however long the history, a page costs the same. The sessions still in memory
 * come as snapshots through SessionsStore; the screen shows those over these lines.
 */
export class HistoryStore {
  readonly #bridge: CosignerBridge;
  /** Newest first, as the pages came. */
  entries: SessionSummary[] = $state.raw([]);
  /** The cursor of the next page; null once the last came. */
  next: string | null = $state(null);
  loading = $state(false);
  loaded = $state(false);
  error: unknown = $state.raw(null);

  constructor(bridge: CosignerBridge) {
    this.#bridge = bridge;
  }

  /** The first page again (the screen opened, or the back end reconnected). */
  reload(): Promise<void> {
    return this.#load(undefined);
  }

  async more(): Promise<void> {
    if (this.next !== null && !this.loading) await this.#load(this.next);
  }

  async #load(cursor: string | undefined): Promise<void> {
    this.loading = true;
    try {
      const page = await this.#bridge.call('sessions.history', { ...(cursor === undefined ? {} : { cursor }), limit: HISTORY_PAGE });
      this.entries = cursor === undefined ? page.sessions : [...this.entries, ...page.sessions];
      this.next = page.next;
      this.error = null;
      this.loaded = true;
    } catch (error) {
      this.error = error;
    } finally {
      this.loading = false;
    }
  }
}
