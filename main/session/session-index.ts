/**
 * The session index (docs/PROTOCOL.md §Persistence): one line per stored session record, what the
 * history list shows plus the local key the record belongs to. It is held in memory and saved as one
 * document of the session store, so history is paged without reading any record and a restart reads
 * only the records of sessions that may still act. The records stay the truth: an index that is
 * missing, unreadable or behind them (a crash before its save) is repaired from them at start.
 */
import { z } from 'zod';
import { CosignerError } from '../errors.ts';
import { HistoryCursor, MAX_HISTORY_PAGE, PublicKeyHex, SessionSummary, type HistoryPage } from '../../preload/contract.ts';
import type { RecordStore } from '../storage/record-store.ts';
import { cursorOf, isAfter, newestFirst } from './session-summary.ts';

/** Not a session id (64 hex digits), so it can share the session store. */
export const INDEX_KEY = 'session-index';
const INDEX_FORMAT = 1;

const IndexEntry = SessionSummary.extend({ localKey: PublicKeyHex });
export type IndexEntry = z.infer<typeof IndexEntry>;
const IndexDocument = z.object({ format: z.literal(INDEX_FORMAT), entries: z.array(IndexEntry) });

export function isSessionKey(key: string): boolean {
  return /^[0-9a-f]{64}$/.test(key);
}

export class SessionIndex {
  readonly #entries = new Map<string, IndexEntry>();
  #dirty = false;

  /** The saved index; an empty one when none was saved, or, with `intact: false`, when it cannot be read. */
  static async load(store: RecordStore): Promise<{ index: SessionIndex; intact: boolean }> {
    const index = new SessionIndex();
    let json: unknown;
    try {
      json = await store.get(INDEX_KEY);
    } catch {
      return { index, intact: false };
    }
    if (json === undefined) return { index, intact: true };
    const parsed = IndexDocument.safeParse(json);
    if (!parsed.success) return { index, intact: false };
    for (const entry of parsed.data.entries) index.#entries.set(entry.sessionId, entry);
    return { index, intact: true };
  }

  get size(): number {
    return this.#entries.size;
  }

  get(sessionId: string): IndexEntry | undefined {
    return this.#entries.get(sessionId);
  }

  values(): IterableIterator<IndexEntry> {
    return this.#entries.values();
  }

  set(entry: IndexEntry): void {
    this.#entries.set(entry.sessionId, entry);
    this.#dirty = true;
  }

  delete(sessionId: string): void {
    if (this.#entries.delete(sessionId)) this.#dirty = true;
  }

  /** Drops the lines of records that no longer exist (deleted after the index was last saved). */
  retainOnly(sessionIds: ReadonlySet<string>): void {
    for (const id of [...this.#entries.keys()]) if (!sessionIds.has(id)) this.delete(id);
  }

  /** One page of `localKey`'s sessions, newest first, after `cursor`. */
  page(localKey: string, cursor: string | undefined, limit: number): HistoryPage {
    if (cursor !== undefined && !HistoryCursor.safeParse(cursor).success) {
      throw new CosignerError('INVALID_INPUT', 'cursor must come from a previous page');
    }
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_HISTORY_PAGE) {
      throw new CosignerError('INVALID_INPUT', `limit must be within 1..${MAX_HISTORY_PAGE}`);
    }
    const mine = [...this.#entries.values()].filter((e) => e.localKey === localKey && (cursor === undefined || isAfter(e, cursor)));
    const sessions = mine
      .sort(newestFirst)
      .slice(0, limit)
      .map(({ localKey: _, ...summary }) => summary);
    const last = sessions[sessions.length - 1];
    return { sessions, next: mine.length > limit && last ? cursorOf(last) : null };
  }

  /** Saves the index if it changed since the last save (atomically: the store's put). */
  async save(store: RecordStore): Promise<void> {
    if (!this.#dirty) return;
    this.#dirty = false;
    try {
      await store.put(INDEX_KEY, { format: INDEX_FORMAT, entries: [...this.#entries.values()] });
    } catch (e) {
      this.#dirty = true;
      throw e;
    }
  }
}
