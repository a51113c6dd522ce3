/**
 * A durable key → JSON document store. The coordinator keeps one document per session in it
 * (docs/PROTOCOL.md §Persistence); nothing secret is ever written here.
 */
import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { CosignerError } from '../errors.ts';
import { removeFileDurably, writeFileAtomic } from './atomic-file.ts';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface RecordStore {
  /** Replaces the document under `key`. Once resolved it is durable; a crash at any moment leaves
   *  the previous document or the new one, never a mix or nothing. */
  put(key: string, value: JsonValue): Promise<void>;
  get(key: string): Promise<JsonValue | undefined>;
  keys(): Promise<string[]>;
  delete(key: string): Promise<void>;
}

/** Keys become file names: a conservative alphabet, no separators, no dot files. */
const KEY = /^[a-z0-9][a-z0-9_-]{0,127}$/;
export const MAX_RECORD_BYTES = 4 * 1024 * 1024;
const SUFFIX = '.json';

export function checkRecordKey(key: string): void {
  if (typeof key !== 'string' || !KEY.test(key)) {
    throw new CosignerError('INVALID_INPUT', 'record keys are 1-128 characters of a-z, 0-9, _ and -');
  }
}

export function serializeRecord(value: JsonValue): Uint8Array {
  const text = JSON.stringify(value);
  if (text === undefined) throw new CosignerError('INVALID_INPUT', 'record is not JSON');
  const bytes = new TextEncoder().encode(text);
  if (bytes.length > MAX_RECORD_BYTES) {
    throw new CosignerError('STORAGE_FAILED', 'record too large', { size: bytes.length, max: MAX_RECORD_BYTES });
  }
  return bytes;
}

function storageFailed(what: string, key: string | undefined, cause: unknown): CosignerError {
  if (cause instanceof CosignerError) return cause;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code ?? 'unknown';
  return new CosignerError('STORAGE_FAILED', `could not ${what}`, { key, errno: code }, { cause });
}

/**
 * One file per record in one directory, each write atomic and durable (temp file, fsync, rename,
 * directory fsync: main/storage/atomic-file.ts). Writes to one key are applied in call order.
 */
export class FileRecordStore implements RecordStore {
  readonly directory: string;
  /** One chain per key with a write in flight; removed when it drains, so bounded by concurrent writes. */
  readonly #chains = new Map<string, Promise<void>>();

  private constructor(directory: string) {
    this.directory = directory;
  }

  /** Opens (creating, mode 0700) `directory` and removes temp files a crash may have left behind. */
  static async open(directory: string): Promise<FileRecordStore> {
    const store = new FileRecordStore(directory);
    try {
      await mkdir(directory, { recursive: true, mode: 0o700 });
      for (const name of await readdir(directory)) {
        // A write's leftover is never read; one that cannot be removed now is tried again at the next open.
        if (name.endsWith('.tmp')) await unlink(join(directory, name)).catch(() => undefined);
      }
    } catch (e) {
      throw storageFailed('open the record directory', undefined, e);
    }
    return store;
  }

  #path(key: string): string {
    checkRecordKey(key);
    return join(this.directory, key + SUFFIX);
  }

  put(key: string, value: JsonValue): Promise<void> {
    let path: string;
    let data: Uint8Array;
    try {
      path = this.#path(key);
      data = serializeRecord(value);
    } catch (e) {
      return Promise.reject(e);
    }
    const previous = this.#chains.get(key) ?? Promise.resolve();
    const write = previous
      .then(() => writeFileAtomic(path, data))
      .catch((e: unknown) => {
        throw storageFailed('write a record', key, e);
      });
    const chain = write.then(
      () => undefined,
      () => undefined,
    );
    this.#chains.set(key, chain);
    void chain.then(() => {
      if (this.#chains.get(key) === chain) this.#chains.delete(key);
    });
    return write;
  }

  async get(key: string): Promise<JsonValue | undefined> {
    const path = this.#path(key);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw storageFailed('read a record', key, e);
    }
    try {
      return JSON.parse(text) as JsonValue;
    } catch (e) {
      throw new CosignerError('STORAGE_FAILED', 'record is not valid JSON', { key }, { cause: e });
    }
  }

  async keys(): Promise<string[]> {
    try {
      const names = await readdir(this.directory);
      return names
        .filter((name) => name.endsWith(SUFFIX))
        .map((name) => name.slice(0, -SUFFIX.length))
        .filter((key) => KEY.test(key))
        .sort();
    } catch (e) {
      throw storageFailed('list records', undefined, e);
    }
  }

  async delete(key: string): Promise<void> {
    const path = this.#path(key);
    await (this.#chains.get(key) ?? Promise.resolve());
    try {
      await removeFileDurably(path);
    } catch (e) {
      throw storageFailed('delete a record', key, e);
    }
  }
}
