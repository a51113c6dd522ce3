import { describe, expect, it } from 'vitest';
import { Outbox } from '../../../main/p2p/outbox.ts';
import { MAX_INBOX_ENTRIES } from '../../../main/p2p/dht-records.ts';
import { testSigner } from '../../support/signers.ts';

const alice = testSigner('alice').publicKey;
const bob = testSigner('bob').publicKey;
const carol = testSigner('carol').publicKey;

describe('outbox of DHT inbox records', () => {
  it('keeps one slot per (recipient, creator) with increasing sequence numbers', () => {
    const outbox = new Outbox();
    const a = outbox.add(bob, alice, new Uint8Array([1]), 2000, 1000);
    const b = outbox.add(bob, alice, new Uint8Array([2]), 3000, 1000);
    outbox.add(carol, alice, new Uint8Array([3]), 3000, 1000);
    expect(outbox.size).toBe(2);
    expect(b.seq).toBeGreaterThan(a.seq);
    expect(b.entries.map((e) => e.announcement[0])).toEqual([2, 1]);
    // adding the same announcement again does not duplicate it
    expect(outbox.add(bob, alice, new Uint8Array([2]), 3000, 1000).entries).toHaveLength(2);
  });

  it('keeps at most MAX_INBOX_ENTRIES, dropping those that expire first', () => {
    const outbox = new Outbox();
    let slot;
    for (let i = 0; i < MAX_INBOX_ENTRIES + 3; i++) slot = outbox.add(bob, alice, new Uint8Array([i]), 10_000 + i, 0);
    expect(slot!.entries).toHaveLength(MAX_INBOX_ENTRIES);
    expect(Math.min(...slot!.entries.map((e) => e.expiresAt))).toBe(10_003);
  });

  it('drops expired entries and empty slots when republishing', () => {
    const outbox = new Outbox();
    outbox.add(bob, alice, new Uint8Array([1]), 2000, 0);
    outbox.add(carol, alice, new Uint8Array([2]), 5000, 0);
    const slots = outbox.republish(3000);
    expect(slots).toHaveLength(1);
    expect(slots[0]!.recipient).toEqual(carol);
    expect(slots[0]!.seq).toBeGreaterThanOrEqual(3000);
  });

  it('bounds the number of slots', () => {
    const outbox = new Outbox(2);
    outbox.add(bob, alice, new Uint8Array([1]), 2000, 0);
    outbox.add(carol, alice, new Uint8Array([1]), 2000, 0);
    expect(() => outbox.add(alice, bob, new Uint8Array([1]), 2000, 0)).toThrow(expect.objectContaining({ code: 'LIMIT_REACHED' }));
  });
});
