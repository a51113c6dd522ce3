/**
 * A signer that comes online after the announcement still receives it (from its DHT inbox) and can
 * complete the exchange with the creator.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { testSigner } from '../../support/signers.ts';
import { makeTestAnnouncement } from '../../support/p2p-fixtures.ts';
import { collect, startNode, stopAll, waitFor } from './harness.ts';
import type { TestNode } from './harness.ts';

let nodes: TestNode[] = [];
afterEach(async () => {
  await stopAll(nodes);
  nodes = [];
});

const alice = testSigner('alice');
const carol = testSigner('carol');

describe('late signer', () => {
  it('finds the request in its DHT inbox while the creator is offline, and answers when the creator returns', async () => {
    const boot = await startNode('boot');
    const creator = await startNode('alice', { bootstrap: [boot.addr] });
    nodes = [boot, creator];
    await waitFor('alice in the DHT', () => creator.network.status().dhtRoutingTableSize > 0);
    const expiresAt = Date.now() + 60_000;
    const announcement = makeTestAnnouncement(alice, [alice.publicKey, carol.publicKey], expiresAt, 7);
    const pending = creator.network.transport
      .send(carol.publicKey, announcement, { kind: 'announcement', sessionId: 'ee', expiresAt })
      .catch((e: unknown) => e);
    await waitFor('the inbox record stored at a peer', () => creator.network.status().transport.inboxRecordsPublished >= 1);
    const aliceCard = (await creator.network.publishCard()).cards[0]!;
    await creator.network.stop();
    expect(await pending).toMatchObject({ code: 'NOT_RUNNING' });

    const late = await startNode('carol', { bootstrap: [boot.addr], cosigners: [alice.publicKey] });
    nodes.push(late);
    const atCarol = collect(late);
    await waitFor('carol in the DHT', () => late.network.status().dhtRoutingTableSize > 0);
    expect(await late.network.pollInbox()).toBe(1);
    expect(atCarol).toEqual([{ frame: announcement, fromPeer: aliceCard.peerId }]);
    expect(late.network.transport.peerOf(alice.publicKey)).toBe(aliceCard.peerId);
    // Polling again does not hand the same announcement over twice.
    expect(await late.network.pollInbox()).toBe(0);

    const back = await startNode('alice', { bootstrap: [boot.addr] });
    nodes.push(back);
    const atAlice = collect(back);
    await late.network.transport.send(alice.publicKey, new Uint8Array([0xa1]), { kind: 'session-message', sessionId: 'ee', expiresAt });
    expect(atAlice).toEqual([{ frame: new Uint8Array([0xa1]), fromPeer: late.network.peerId }]);
  });

  it('gets the request exactly once when the creator stays online, and the creator’s send completes', async () => {
    const boot = await startNode('boot');
    const creator = await startNode('alice', { bootstrap: [boot.addr] });
    nodes = [boot, creator];
    const atAlice = collect(creator);
    await waitFor('alice in the DHT', () => creator.network.status().dhtRoutingTableSize > 0);
    const expiresAt = Date.now() + 60_000;
    const announcement = makeTestAnnouncement(alice, [alice.publicKey, carol.publicKey], expiresAt, 8);
    const sent = creator.network.transport.send(carol.publicKey, announcement, { kind: 'announcement', sessionId: 'ff', expiresAt });
    await waitFor('the inbox record stored at a peer', () => creator.network.status().transport.inboxRecordsPublished >= 1);

    const late = await startNode('carol', { bootstrap: [boot.addr], cosigners: [alice.publicKey] });
    nodes.push(late);
    const atCarol = collect(late);
    await late.network.pollInbox();
    await sent;
    await waitFor('the announcement at carol', () => atCarol.length > 0);
    await late.network.pollInbox();
    expect(atCarol).toEqual([{ frame: announcement, fromPeer: creator.network.peerId }]);
    await late.network.transport.send(alice.publicKey, new Uint8Array([0xc0]), { kind: 'session-message', sessionId: 'ff', expiresAt });
    expect(atAlice.map((f) => f.fromPeer)).toEqual([late.network.peerId]);
  });
});
