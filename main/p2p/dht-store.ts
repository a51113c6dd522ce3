/**
 * The node's in-memory datastore, with two protections kad-dht does not give on its own:
 * - a hard cap on what remote peers can make it hold: any peer may PUT valid DHT records (anyone can
 *   mint signer keys and sign cards for them), so the part of the store under the DHT prefix is
 *   bounded by entry count and bytes, evicting the oldest entries first (our own records are
 *   republished periodically, so an eviction only costs a later lookup);
 * - no rollback: kad-dht's PUT handler stores any valid record, so a replayed older card or inbox
 *   record would replace the newer one; here a stored record is only replaced by one whose version
 *   (see dht-records.ts `recordVersion`) is at least as high.
 */
import { MemoryDatastore } from 'datastore-core';
import { Key } from 'interface-datastore';
import { Record as DhtRecord } from '@libp2p/kad-dht';
import type { AbortOptions } from '@libp2p/interface';
import { recordVersion } from './dht-records.ts';

export interface DhtStoreLimits {
  maxEntries: number;
  maxBytes: number;
}

export const DEFAULT_DHT_STORE_LIMITS: DhtStoreLimits = { maxEntries: 4096, maxBytes: 64 * 1024 * 1024 };

export class BoundedDhtDatastore extends MemoryDatastore {
  readonly #prefix: string;
  readonly #limits: DhtStoreLimits;
  /** DHT keys in insertion order, with their value sizes. */
  readonly #sizes = new Map<string, number>();
  #bytes = 0;

  #rollbacksRefused = 0;

  constructor(limits: DhtStoreLimits = DEFAULT_DHT_STORE_LIMITS, prefix = '/dht/') {
    super();
    this.#limits = limits;
    this.#prefix = prefix;
  }

  override put(key: Key, val: Uint8Array, options?: AbortOptions): Key {
    const id = key.toString();
    if (id.startsWith(`${this.#prefix}record/`) && this.#isRollback(key, val)) {
      this.#rollbacksRefused += 1;
      return key;
    }
    // MemoryDatastore writes synchronously; its type allows a promise for other stores.
    void super.put(key, val, options);
    if (id.startsWith(this.#prefix)) {
      this.#forget(id);
      this.#sizes.set(id, val.byteLength);
      this.#bytes += val.byteLength;
      this.#evict();
    }
    return key;
  }

  override delete(key: Key, options?: AbortOptions): void {
    void super.delete(key, options);
    this.#forget(key.toString());
  }

  get dhtEntries(): number {
    return this.#sizes.size;
  }

  get dhtBytes(): number {
    return this.#bytes;
  }

  get rollbacksRefused(): number {
    return this.#rollbacksRefused;
  }

  #isRollback(key: Key, incoming: Uint8Array): boolean {
    if (!super.has(key)) return false;
    try {
      const current = DhtRecord.deserialize(super.get(key) as Uint8Array);
      const next = DhtRecord.deserialize(incoming);
      // Both were validated: the stored one when it came in, the incoming one by kad-dht just now (or
      // it is this node's own). Checking their signatures again here doubled a put's cost.
      const currentVersion = recordVersion(current.key, current.value, 'already-validated');
      if (currentVersion === undefined) return false;
      return (recordVersion(next.key, next.value, 'already-validated') ?? -1) < currentVersion;
    } catch {
      return false;
    }
  }

  #forget(id: string): void {
    const size = this.#sizes.get(id);
    if (size === undefined) return;
    this.#sizes.delete(id);
    this.#bytes -= size;
  }

  #evict(): void {
    while (this.#sizes.size > this.#limits.maxEntries || this.#bytes > this.#limits.maxBytes) {
      const oldest = this.#sizes.keys().next();
      if (oldest.done === true) return;
      this.#forget(oldest.value);
      void super.delete(new Key(oldest.value));
    }
  }
}
