/**
 * One JSON document in a RecordStore, parsed against a schema on load: a damaged or hand-edited
 * file is reported with a clear error instead of being trusted or silently replaced.
 */
import type { z } from 'zod';
import { CosignerError } from '../errors.ts';
import type { JsonValue, RecordStore } from '../storage/record-store.ts';

export class JsonDocument<S extends z.ZodType> {
  readonly #store: RecordStore;
  readonly #key: string;
  readonly #schema: S;

  constructor(store: RecordStore, key: string, schema: S) {
    this.#store = store;
    this.#key = key;
    this.#schema = schema;
  }

  async load(fallback: z.output<S>): Promise<z.output<S>> {
    const raw = await this.#store.get(this.#key);
    if (raw === undefined) return fallback;
    const parsed = this.#schema.safeParse(raw);
    if (!parsed.success) {
      throw new CosignerError('STORAGE_FAILED', `the saved ${this.#key} are damaged; fix or remove the file`, { key: this.#key });
    }
    return parsed.data;
  }

  save(value: z.output<S>): Promise<void> {
    return this.#store.put(this.#key, value as JsonValue);
  }
}
