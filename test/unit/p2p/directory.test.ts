import { describe, expect, it } from 'vitest';
import { Directory } from '../../../main/p2p/directory.ts';
import { generatePeerIdentity, peerIdOf } from '../../../main/p2p/identity.ts';
import { createSignerCard } from '../../../main/p2p/signer-card.ts';
import { FakeTime } from '../../support/fake-time.ts';
import { seededRandom } from '../../support/random.ts';
import { testSigner } from '../../support/signers.ts';

const time = new FakeTime();
const random = seededRandom('directory');
const alice = testSigner('alice');
const bob = testSigner('bob');
const peerA = peerIdOf(await generatePeerIdentity(seededRandom('pa')));
const peerB = peerIdOf(await generatePeerIdentity(seededRandom('pb')));
const card = (signer = alice, peerId = peerA, issuedAt = time.now()) =>
  createSignerCard({ peerId, displayName: 'x', multiaddrs: [], issuedAt }, signer, random);

describe('signer directory', () => {
  it('keeps the newest card per signer and reports replays as stale', () => {
    const dir = new Directory({ clock: time, lookup: async () => undefined });
    const seen: string[] = [];
    dir.onCard((c, source) => seen.push(`${c.peerId === peerA ? 'A' : 'B'}:${source}`));
    expect(dir.learn(card(alice, peerA, time.now() - 10).bytes, 'dht').status).toBe('new');
    expect(dir.learn(card(alice, peerB, time.now()).bytes, 'dht').status).toBe('updated');
    expect(dir.learn(card(alice, peerA, time.now() - 5).bytes, 'dht').status).toBe('stale');
    expect(dir.peerOf(alice.publicKey)).toBe(peerB);
    expect(seen).toEqual(['A:dht', 'B:dht']);
  });

  it('accepts a directly exchanged card only from the peer it names', () => {
    const dir = new Directory({ clock: time, lookup: async () => undefined });
    expect(dir.learn(card(alice, peerA).bytes, 'direct', peerB)).toEqual({ status: 'rejected', reason: 'WRONG_PEER' });
    expect(dir.learn(card(alice, peerA).bytes, 'direct', peerA).status).toBe('new');
    expect(dir.byPeer(peerA).map((c) => c.displayName)).toEqual(['x']);
  });

  it('rejects forged bytes and cards from the future', () => {
    const dir = new Directory({ clock: time, lookup: async () => undefined });
    const forged = card().bytes.slice();
    forged[40] = (forged[40] as number) ^ 1;
    expect(dir.learn(forged, 'dht')).toEqual({ status: 'rejected', reason: 'BAD_SIGNATURE' });
    expect(dir.learn(card(alice, peerA, time.now() + 3600_000).bytes, 'dht').status).toBe('rejected');
    expect(dir.get(alice.publicKey)).toBeUndefined();
  });

  it('resolves through the lookup once, sharing concurrent lookups', async () => {
    let lookups = 0;
    const bytes = card(bob, peerB).bytes;
    const dir = new Directory({
      clock: time,
      lookup: async () => {
        lookups++;
        return bytes;
      },
    });
    const signal = new AbortController().signal;
    const [a, b] = await Promise.all([dir.resolve(bob.publicKey, { signal }), dir.resolve(bob.publicKey, { signal })]);
    expect(a?.peerId).toBe(peerB);
    expect(b?.peerId).toBe(peerB);
    await dir.resolve(bob.publicKey, { signal });
    expect(lookups).toBe(1);
    await dir.resolve(bob.publicKey, { signal, refresh: true });
    expect(lookups).toBe(2);
  });

  it('is bounded', () => {
    const dir = new Directory({ clock: time, lookup: async () => undefined, maxEntries: 3 });
    for (let i = 0; i < 10; i++) dir.learn(card(testSigner(`s${i}`)).bytes, 'dht');
    expect(dir.cards()).toHaveLength(3);
  });

  it("directory eviction by sybils: fresh identities' cards, three times the bound, do not evict a contact's card", () => {
    // The bound is scaled down from 1024 (each card is signed and verified, ~25 ms here): what
    // matters is more fresh identities than the directory holds.
    const bound = 32;
    const dir = new Directory({ clock: time, lookup: async () => undefined, maxEntries: bound });
    const stranger = (label: string, peerId: string) =>
      createSignerCard({ peerId, displayName: 's', multiaddrs: [], issuedAt: time.now() }, testSigner(label), random);
    dir.pin([bob.publicKey]);
    expect(dir.learn(card(bob, peerB).bytes, 'dht').status).toBe('new');
    for (let n = 0; n < 3 * bound; n++) expect(dir.learn(stranger(`sybil-${n}`, peerA).bytes, 'dht').status).toBe('new');
    expect(dir.peerOf(bob.publicKey)).toBe(peerB);
    expect(dir.cards()).toHaveLength(bound + 1);
    // A card held before its key is pinned (a contact added later) moves out of reach of the flood.
    dir.learn(card(alice, peerA).bytes, 'dht');
    dir.pin([alice.publicKey]);
    for (let n = 0; n < bound + 1; n++) dir.learn(stranger(`more-${n}`, peerB).bytes, 'dht');
    expect(dir.peerOf(alice.publicKey)).toBe(peerA);
    expect(dir.peerOf(bob.publicKey)).toBe(peerB);
  });
});
