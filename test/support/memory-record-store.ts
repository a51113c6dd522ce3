/**
 * The in-memory RecordStore for unit tests: documents go through the same JSON serialization as the
 * file store, so a non-JSON record fails here too. `failWrites` makes puts fail (a full disk).
 */
import { CosignerError } from '../../main/errors.ts';
import { checkRecordKey, serializeRecord, type JsonValue, type RecordStore } from '../../main/storage/record-store.ts';

export class MemoryRecordStore implements RecordStore {
  readonly #docs = new Map<string, string>();
  failWrites = false;
  writes = 0;

  async put(key: string, value: JsonValue): Promise<void> {
    checkRecordKey(key);
    if (this.failWrites) throw new CosignerError('STORAGE_FAILED', 'disk full (test)', { key });
    this.#docs.set(key, new TextDecoder().decode(serializeRecord(value)));
    this.writes += 1;
  }

  async get(key: string): Promise<JsonValue | undefined> {
    checkRecordKey(key);
    const text = this.#docs.get(key);
    return text === undefined ? undefined : (JSON.parse(text) as JsonValue);
  }

  async keys(): Promise<string[]> {
    return [...this.#docs.keys()].sort();
  }

  async delete(key: string): Promise<void> {
    this.#docs.delete(key);
  }

  /** Raw text, so tests can look for what must never be stored. */
  dump(): string {
    return [...this.#docs.values()].join('\n');
  }
}
