/**
 * Discovery through the DHT only (no mDNS): four nodes joined through one bootstrap node find each
 * other's signer cards by public key, and the DHT refuses forged cards and overwrites.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { peerIdFromString } from '@libp2p/peer-id';
import { cardKey } from '../../../main/p2p/dht-records.ts';
import { dhtGet, dhtPut } from '../../../main/p2p/dht-client.ts';
import { createDhtRecordRules } from '../../../main/p2p/dht-records.ts';
import { createSignerCard, decodeSignerCard } from '../../../main/p2p/signer-card.ts';
import { testSigner } from '../../support/signers.ts';
import { inspectTestAnnouncement } from '../../support/p2p-fixtures.ts';
import { systemRandom } from '../../../main/system-ports.ts';
import { collect, realClock, startNode, stopAll, waitFor } from './harness.ts';
import type { TestNode } from './harness.ts';

let nodes: TestNode[] = [];
afterEach(async () => {
  await stopAll(nodes);
  nodes = [];
});

async function cluster(n: number): Promise<TestNode[]> {
  const boot = await startNode('boot');
  const rest = await Promise.all(Array.from({ length: n - 1 }, (_, i) => startNode(`node${i + 1}`, { bootstrap: [boot.addr] })));
  nodes = [boot, ...rest];
  await waitFor('every node in the bootstrap routing table', () => boot.network.status().dhtRoutingTableSize >= n - 1);
  return nodes;
}

describe('DHT discovery of signer cards', () => {
  it('finds a signer it never met by its public key, and reaches it once it is back online', async () => {
    const [boot, n1] = await cluster(3);
    expect((await n1!.network.publishCard()).dhtPeersAccepted).toBeGreaterThan(0);
    const n1Key = n1!.signer.publicKey;
    const n1Peer = n1!.network.peerId;
    await n1!.network.stop();
    // The reader joins after n1 left: the DHT is the only place its card can come from.
    const reader = await startNode('reader', { bootstrap: [boot!.addr] });
    nodes.push(reader);
    const sources: string[] = [];
    reader.network.on('card', (card, source) => {
      if (card.displayName === 'node1') sources.push(source);
    });
    await waitFor('reader in the DHT', () => reader.network.status().dhtRoutingTableSize > 0);
    const card = await reader.network.findSigner(n1Key);
    expect(card).toMatchObject({ peerId: n1Peer, displayName: 'node1' });
    expect(sources).toEqual(['dht']);

    // n1 comes back (same peer identity, new port); a frame for it is delivered once it is reachable.
    const back = await startNode('node1', { bootstrap: [boot!.addr] });
    nodes.push(back);
    const atN1 = collect(back);
    await reader.network.transport.send(n1Key, new Uint8Array([42]), {
      kind: 'session-message',
      sessionId: 'cc',
      expiresAt: Date.now() + 20_000,
    });
    expect(atN1).toEqual([{ frame: new Uint8Array([42]), fromPeer: reader.network.peerId }]);
  });

  it('refuses forged cards and overwrites, and a replayed older card loses to the newest', async () => {
    const [, victim, mallory, reader] = await cluster(4);
    const old = (await victim!.network.publishCard()).cards[0]!;
    const newest = (await victim!.network.publishCard({ displayName: 'victim v2' })).cards[0]!;
    expect(newest.issuedAt).toBeGreaterThan(old.issuedAt);
    const key = cardKey(victim!.signer.publicKey);
    const libp2p = mallory!.network.libp2p;
    const signal = () => AbortSignal.timeout(5000);

    // Mallory's own valid card, put under the victim's key: every peer refuses it.
    const own = createSignerCard(
      { peerId: mallory!.network.peerId, displayName: 'victim', multiaddrs: [], issuedAt: Date.now() },
      mallory!.signer,
      systemRandom,
    );
    expect(await dhtPut(libp2p, key, own.bytes, signal())).toBe(0);
    // A forged card naming the victim's key and Mallory's peer id, with a signature that cannot verify.
    const forged = Uint8Array.from(newest.bytes);
    forged.set(peerIdFromString(mallory!.network.peerId).publicKey!.raw, 1 + 33);
    expect(await dhtPut(libp2p, key, forged, signal())).toBe(0);
    // A replay of the victim's own older card is valid, but no peer lets it replace the newer one.
    await dhtPut(libp2p, key, old.bytes, signal());
    await waitFor('a refused rollback', () => nodes.some((n) => n.network.status().dhtStore.rollbacksRefused > 0));
    const found = await reader!.network.findSigner(victim!.signer.publicKey, { refresh: true });
    expect(found?.displayName).toBe('victim v2');
    expect(found?.peerId).toBe(victim!.network.peerId);

    // Reading the raw DHT value with our rules gives the same answer.
    const rules = createDhtRecordRules({ clock: realClock, inspectAnnouncement: inspectTestAnnouncement });
    const raw = await dhtGet(reader!.network.libp2p, rules, key, signal());
    expect(decodeSignerCard(raw!).issuedAt).toBe(newest.issuedAt);
  });

  it('reports an unknown signer as not found, and a send to it as PEER_UNREACHABLE at its expiry', async () => {
    const [, n1] = await cluster(3);
    const nobody = testSigner('never-online').publicKey;
    expect(await n1!.network.findSigner(nobody)).toBeUndefined();
    const started = Date.now();
    const err = await n1!.network.transport
      .send(nobody, new Uint8Array([1]), { kind: 'session-message', sessionId: 'dd', expiresAt: started + 1200 })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PEER_UNREACHABLE', context: { sessionId: 'dd', lastError: 'no signer card found for this key' } });
    expect((err as Error).message).toMatch(/unreachable until the session expired/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1150);
  });
});
