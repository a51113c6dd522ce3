/**
 * The creator's side of the DHT announcement inboxes: for each (recipient, local creator key) the
 * unexpired announcements that the recipient should still find if it comes online late. It decides
 * what each inbox record holds and its sequence number; the transport signs and publishes it.
 * Bounded: at most MAX_INBOX_ENTRIES per slot (the soonest-expiring go first), a byte budget per
 * record, and a bounded number of slots.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { equalBytes } from '@noble/curves/utils.js';
import { CosignerError } from '../errors.ts';
import { MAX_INBOX_ENTRIES, MAX_INBOX_RECORD_BYTES } from './dht-records.ts';

interface Entry {
  announcement: Uint8Array;
  expiresAt: number;
}

export interface OutboxSlot {
  readonly recipient: Uint8Array;
  readonly creator: Uint8Array;
  readonly entries: readonly Entry[];
  /** Strictly increasing per slot, so the DHT selector prefers the newest record. */
  readonly seq: number;
}

interface MutableSlot {
  recipient: Uint8Array;
  creator: Uint8Array;
  entries: Entry[];
  seq: number;
}

// version, two keys, seq, count, signature; each entry adds a u32 length.
const RECORD_OVERHEAD = 1 + 33 + 33 + 8 + 1 + 64;

export class Outbox {
  readonly #slots = new Map<string, MutableSlot>();
  readonly #maxSlots: number;

  constructor(maxSlots = 256) {
    this.#maxSlots = maxSlots;
  }

  /** Adds an announcement and returns the slot to publish, with a fresh sequence number. */
  add(recipient: Uint8Array, creator: Uint8Array, announcement: Uint8Array, expiresAt: number, now: number): OutboxSlot {
    if (RECORD_OVERHEAD + 4 + announcement.length > MAX_INBOX_RECORD_BYTES) {
      throw new CosignerError('OVERSIZED_MESSAGE', 'announcement too large for a DHT inbox record', { length: announcement.length });
    }
    this.prune(now);
    const id = `${bytesToHex(recipient)}/${bytesToHex(creator)}`;
    let slot = this.#slots.get(id);
    if (slot === undefined) {
      if (this.#slots.size >= this.#maxSlots)
        throw new CosignerError('LIMIT_REACHED', 'too many DHT inboxes to keep', { limit: this.#maxSlots });
      slot = { recipient: Uint8Array.from(recipient), creator: Uint8Array.from(creator), entries: [], seq: 0 };
      this.#slots.set(id, slot);
    }
    if (!slot.entries.some((e) => equalBytes(e.announcement, announcement))) {
      slot.entries.push({ announcement, expiresAt });
      // Keep the entries that stay useful longest when over the count or byte budget.
      slot.entries.sort((a, b) => b.expiresAt - a.expiresAt);
      while (slot.entries.length > MAX_INBOX_ENTRIES || recordSize(slot.entries) > MAX_INBOX_RECORD_BYTES) slot.entries.pop();
    }
    return this.#bump(slot, now);
  }

  /** Drops expired entries and empty slots. */
  prune(now: number): void {
    for (const [id, slot] of this.#slots) {
      slot.entries = slot.entries.filter((e) => e.expiresAt > now);
      if (slot.entries.length === 0) this.#slots.delete(id);
    }
  }

  /** Every live slot with a fresh sequence number, for periodic republishing. */
  republish(now: number): OutboxSlot[] {
    this.prune(now);
    return [...this.#slots.values()].map((slot) => this.#bump(slot, now));
  }

  get size(): number {
    return this.#slots.size;
  }

  #bump(slot: MutableSlot, now: number): OutboxSlot {
    slot.seq = Math.max(now, slot.seq + 1);
    return { recipient: slot.recipient, creator: slot.creator, entries: [...slot.entries], seq: slot.seq };
  }
}

function recordSize(entries: readonly Entry[]): number {
  return entries.reduce((n, e) => n + 4 + e.announcement.length, RECORD_OVERHEAD);
}
