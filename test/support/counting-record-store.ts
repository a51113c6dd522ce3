/**
 * A RecordStore that counts what goes through it, so tests can assert how much a query reads
 * (a count, unlike wall time, does not depend on how loaded the machine is).
 */
import type { JsonValue, RecordStore } from '../../main/storage/record-store.ts';

export class CountingRecordStore implements RecordStore {
  readonly inner: RecordStore;
  reads = 0;
  deletes = 0;
  /** Makes delete() fail (a read-only or failing disk). */
  failDeletes = false;

  constructor(inner: RecordStore) {
    this.inner = inner;
  }

  put(key: string, value: JsonValue): Promise<void> {
    return this.inner.put(key, value);
  }

  get(key: string): Promise<JsonValue | undefined> {
    this.reads += 1;
    return this.inner.get(key);
  }

  keys(): Promise<string[]> {
    return this.inner.keys();
  }

  async delete(key: string): Promise<void> {
    if (this.failDeletes) throw new Error('delete failed (test)');
    this.deletes += 1;
    await this.inner.delete(key);
  }

  /** Keys of session records (64 hex digits), without any other document the store holds. */
  async sessionKeys(): Promise<string[]> {
    return (await this.inner.keys()).filter((key) => /^[0-9a-f]{64}$/.test(key));
  }
}
