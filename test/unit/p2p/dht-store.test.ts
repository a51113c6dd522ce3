import { describe, expect, it } from 'vitest';
import { Key } from 'interface-datastore';
import { Record as DhtRecord } from '@libp2p/kad-dht';
import { BoundedDhtDatastore } from '../../../main/p2p/dht-store.ts';
import { cardKey } from '../../../main/p2p/dht-records.ts';
import { createSignerCard } from '../../../main/p2p/signer-card.ts';
import { generatePeerIdentity, peerIdOf } from '../../../main/p2p/identity.ts';
import { seededRandom } from '../../support/random.ts';
import { testSigner } from '../../support/signers.ts';

const random = seededRandom('store');
const alice = testSigner('alice');
const peerId = peerIdOf(await generatePeerIdentity(seededRandom('p')));
const stored = (issuedAt: number) => {
  const card = createSignerCard({ peerId, displayName: `v${issuedAt}`, multiaddrs: [], issuedAt }, alice, random);
  return new DhtRecord(cardKey(alice.publicKey), card.bytes, new Date()).serialize();
};

describe('bounded DHT datastore', () => {
  it('caps the DHT entries by count and bytes, evicting the oldest, and leaves other prefixes alone', () => {
    const store = new BoundedDhtDatastore({ maxEntries: 3, maxBytes: 1000 });
    for (let i = 0; i < 10; i++) store.put(new Key(`/dht/record/k${i}`), new Uint8Array(10));
    for (let i = 0; i < 10; i++) store.put(new Key(`/peers/p${i}`), new Uint8Array(10));
    expect(store.dhtEntries).toBe(3);
    expect(store.has(new Key('/dht/record/k9'))).toBe(true);
    expect(store.has(new Key('/dht/record/k0'))).toBe(false);
    expect(store.has(new Key('/peers/p0'))).toBe(true);
    store.put(new Key('/dht/record/big'), new Uint8Array(990));
    expect(store.dhtBytes).toBeLessThanOrEqual(1000);
    expect(store.has(new Key('/dht/record/k9'))).toBe(true);
    expect(store.has(new Key('/dht/record/k8'))).toBe(false);
    store.delete(new Key('/dht/record/big'));
    expect([store.dhtEntries, store.dhtBytes]).toEqual([1, 10]);
  });

  it('keeps the newer record when an older valid one is replayed', () => {
    const store = new BoundedDhtDatastore();
    const key = new Key('/dht/record/alice');
    store.put(key, stored(2000));
    store.put(key, stored(1000));
    expect(store.rollbacksRefused).toBe(1);
    const kept = DhtRecord.deserialize(store.get(key) as Uint8Array);
    expect(new TextDecoder().decode(kept.value)).toContain('v2000');
    store.put(key, stored(3000));
    expect(new TextDecoder().decode(DhtRecord.deserialize(store.get(key) as Uint8Array).value)).toContain('v3000');
  });
});
