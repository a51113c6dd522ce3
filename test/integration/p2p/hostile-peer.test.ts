/**
 * A hostile script peer against a real node: malformed, oversized, unknown and unexpected frames,
 * forged and replayed cards, forged DHT records, a DHT store flood and a frame flood. The node stays
 * up, counts every reject by reason, bans the peer for a while, keeps its DHT store bounded, and
 * honest peers keep working throughout.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { multiaddr } from '@multiformats/multiaddr';
import { peerIdFromString } from '@libp2p/peer-id';
import { lpStream } from '@libp2p/utils';
import type { Stream } from '@libp2p/interface';
import { NodeStatus } from '../../../preload/contract.ts';
import { createCosignerNode } from '../../../main/p2p/node.ts';
import type { CosignerNode } from '../../../main/p2p/node.ts';
import { generatePeerIdentity } from '../../../main/p2p/identity.ts';
import { cardKey, createDhtRecordRules, encodeInboxRecord, inboxKey } from '../../../main/p2p/dht-records.ts';
import { dhtPut } from '../../../main/p2p/dht-client.ts';
import { createSignerCard } from '../../../main/p2p/signer-card.ts';
import { CARD_PROTOCOL, encodeMessage, SESSION_PROTOCOL } from '../../../main/p2p/wire.ts';
import { systemRandom } from '../../../main/system-ports.ts';
import { seededRandom } from '../../support/random.ts';
import { testSigner } from '../../support/signers.ts';
import { inspectTestAnnouncement, makeTestAnnouncement } from '../../support/p2p-fixtures.ts';
import { collect, FAST_TIMEOUTS, realClock, startNode, stopAll, waitFor } from './harness.ts';
import type { TestNode } from './harness.ts';

let nodes: TestNode[] = [];
let hostile: CosignerNode | undefined;
afterEach(async () => {
  await stopAll(nodes);
  await hostile?.libp2p.stop();
  nodes = [];
  hostile = undefined;
});

function varint(n: number): Uint8Array {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Uint8Array.from(out);
}

const lp = (frame: Uint8Array) => Uint8Array.from([...varint(frame.length), ...frame]);

function closed(stream: Stream, ms = 3000): Promise<void> {
  if (stream.status !== 'open') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    stream.addEventListener(
      'close',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

describe('hostile peer', () => {
  it('cannot crash, flood or confuse a node, and gets banned for a while', async () => {
    const target = await startNode('target', {
      // A slow refill, so that the flood below meets the limit right after its burst however loaded the machine.
      guard: { burst: 20, ratePerSecond: 1, strikeLimit: 10, strikeWindowMs: 60_000, banMs: 3000 },
      storeLimits: { maxEntries: 20, maxBytes: 1024 * 1024 },
    });
    const honest = await startNode('honest', { bootstrap: [target.addr] });
    nodes = [target, honest];
    const atTarget = collect(target);
    await waitFor('cards exchanged', () => honest.network.transport.peerOf(target.signer.publicKey));
    const honestCard = (await honest.network.publishCard()).cards[0]!;

    const rules = createDhtRecordRules({ clock: realClock, inspectAnnouncement: inspectTestAnnouncement });
    hostile = await createCosignerNode({
      identity: await generatePeerIdentity(seededRandom('hostile')),
      listen: ['/ip4/127.0.0.1/tcp/0'],
      dht: { mode: 'server', addresses: 'all', rules },
    });
    const h = hostile.libp2p;
    const targetId = peerIdFromString(target.network.peerId);
    await h.dial(multiaddr(target.addr));
    const raw = async (protocol: string, bytes: Uint8Array) => {
      const stream = await h.dialProtocol(targetId, protocol);
      stream.send(bytes);
      await closed(stream);
      return stream.status;
    };
    const mallory = testSigner('mallory');

    // Bad frames on the session protocol: each resets the stream with its own counted reason.
    expect(await raw(SESSION_PROTOCOL, lp(Uint8Array.of(1, 0x01)))).toBe('reset'); // DELIVER without a kind
    expect(await raw(SESSION_PROTOCOL, lp(Uint8Array.of(1, 0x7f, 0)))).toBe('reset'); // unknown type
    expect(await raw(SESSION_PROTOCOL, lp(Uint8Array.of(9, 0x01, 0, 1)))).toBe('reset'); // unknown version
    expect(await raw(SESSION_PROTOCOL, lp(encodeMessage({ type: 'ack' })))).toBe('reset'); // a reply where a request belongs
    // Claims a 10 MiB frame and starts sending it: refused at the length prefix, nothing buffered.
    expect(await raw(SESSION_PROTOCOL, Uint8Array.from([...varint(10 * 1024 * 1024), ...new Uint8Array(64 * 1024)]))).toBe('reset');
    // A garbage card, and a replay of the honest peer's genuine card (not bound to the hostile peer id).
    expect(await raw(CARD_PROTOCOL, lp(encodeMessage({ type: 'card', card: new Uint8Array(120).fill(3) })))).toBe('reset');
    expect(await raw(CARD_PROTOCOL, lp(encodeMessage({ type: 'card', card: honestCard.bytes })))).toBe('reset');
    // Protocols the node does not speak are refused by protocol negotiation.
    await expect(h.dialProtocol(targetId, '/cosigner/evil/1.0.0')).rejects.toThrow();
    expect(target.network.transport.peerOf(honest.signer.publicKey)).toBe(honest.network.peerId);

    // A replayed announcement reaches the coordinator once.
    const ann = makeTestAnnouncement(mallory, [mallory.publicKey, target.signer.publicKey], Date.now() + 60_000, 1);
    for (let i = 0; i < 2; i++) {
      const stream = await h.dialProtocol(targetId, SESSION_PROTOCOL);
      const s = lpStream(stream);
      await s.write(encodeMessage({ type: 'deliver', kind: 'announcement', payload: ann }));
      expect(Uint8Array.from((await s.read()).subarray())).toEqual(encodeMessage({ type: 'ack' }));
      await stream.close();
    }
    expect(atTarget.filter((f) => f.fromPeer === h.peerId.toString())).toHaveLength(1);

    // Forged DHT records: an inbox in the honest creator's slot signed by mallory, a card under the honest key.
    const forgedInbox = encodeInboxRecord(
      { recipient: target.signer.publicKey, seq: Date.now(), announcements: [ann] },
      mallory,
      systemRandom,
    );
    expect(await dhtPut(h, inboxKey(target.signer.publicKey, honest.signer.publicKey), forgedInbox, AbortSignal.timeout(5000))).toBe(0);
    const ownCard = createSignerCard(
      { peerId: h.peerId.toString(), displayName: 'honest', multiaddrs: [], issuedAt: Date.now() },
      mallory,
      systemRandom,
    );
    expect(await dhtPut(h, cardKey(honest.signer.publicKey), ownCard.bytes, AbortSignal.timeout(5000))).toBe(0);
    // A flood of valid cards for freshly minted keys: the target's DHT store stays within its cap.
    await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const key = testSigner(`sybil-${i}`);
        const card = createSignerCard(
          { peerId: h.peerId.toString(), displayName: `s${i}`, multiaddrs: [], issuedAt: Date.now() },
          key,
          systemRandom,
        );
        await dhtPut(h, cardKey(key.publicKey), card.bytes, AbortSignal.timeout(5000));
      }),
    );
    expect(target.network.status().dhtStore.records).toBeLessThanOrEqual(20);

    // A flood of valid frames: a burst is accepted, then NACKed as rate-limited until the ban.
    let accepted = 0;
    let limited = 0;
    const floodStart = Date.now();
    for (let i = 0; i < 200; i++) {
      let stream: Stream;
      try {
        stream = await h.dialProtocol(targetId, SESSION_PROTOCOL, { signal: AbortSignal.timeout(2000) });
      } catch {
        break; // banned: the connection is gone and new ones are refused
      }
      const s = lpStream(stream);
      try {
        await s.write(encodeMessage({ type: 'deliver', kind: 'session-message', payload: Uint8Array.of(i) }));
        const reply = (await s.read({ signal: AbortSignal.timeout(2000) })).subarray();
        if (reply[1] === 0x02) accepted++;
        else limited++;
        await stream.close();
      } catch {
        break;
      }
    }
    // What is left of the burst of 20 after the frames above, plus one a second while it floods.
    expect(accepted).toBeGreaterThanOrEqual(5);
    expect(accepted).toBeLessThanOrEqual(20 + Math.ceil((Date.now() - floodStart) / 1000));
    expect(limited).toBeGreaterThan(0);

    const status = target.network.status();
    expect(status.running).toBe(true);
    expect(status.rejectedFrames).toMatchObject({
      malformed: expect.any(Number),
      oversized: 1,
      'unknown-type': 1,
      'unsupported-version': 1,
      'unexpected-type': 1,
      'bad-card': 2,
    });
    expect(status.rejectedFrames.malformed).toBeGreaterThanOrEqual(1);
    expect(status.rejectedFrames['rate-limited']).toBeGreaterThanOrEqual(1);
    expect(status.bansIssued).toBe(1);
    expect(status.bannedPeers).toBe(1);
    // The ban says why: the strikes that earned it (the UI shows them), and no co-signer's key.
    const [ban] = NodeStatus.parse(status).bans;
    expect(ban).toMatchObject({ peerId: h.peerId.toString(), signers: [] });
    expect(Object.values(ban!.reasons).reduce((a, b) => a + b, 0)).toBe(10);
    expect(ban!.reasons['rate-limited']).toBeGreaterThanOrEqual(1);
    // The ban dropped the hostile connection, and the connection gater refuses new ones.
    await waitFor('the hostile connection dropped', () => h.getConnections(targetId).length === 0);
    // (The dialer may see its side of the handshake finish before the target's gater drops it.)
    const retry = await h.dial(multiaddr(target.addr), { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
    await waitFor('the retried connection dropped', () => retry === undefined || retry.status !== 'open');
    await expect(h.dialProtocol(targetId, SESSION_PROTOCOL, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
    expect(target.network.libp2p.getConnections(h.peerId)).toHaveLength(0);

    // Honest traffic still flows both ways.
    const expiresAt = Date.now() + 20_000;
    await honest.network.transport.send(target.signer.publicKey, Uint8Array.of(0x11), {
      kind: 'session-message',
      sessionId: 'aa',
      expiresAt,
    });
    const atHonest = collect(honest);
    await target.network.transport.send(honest.signer.publicKey, Uint8Array.of(0x22), {
      kind: 'session-message',
      sessionId: 'aa',
      expiresAt,
    });
    expect(atTarget.filter((f) => f.fromPeer === honest.network.peerId).map((f) => f.frame)).toEqual([Uint8Array.of(0x11)]);
    expect(atHonest.map((f) => f.frame)).toEqual([Uint8Array.of(0x22)]);

    // The ban is temporary.
    await waitFor('the ban to end', () => target.network.status().bannedPeers === 0, 5000);
    await h.dial(multiaddr(target.addr), { signal: AbortSignal.timeout(3000) });
    await h.dialProtocol(targetId, SESSION_PROTOCOL, { signal: AbortSignal.timeout(3000) });
  });

  it('a kept session stream may fall quiet between frames, but a frame begun and not finished is a stall and a strike', async () => {
    const target = await startNode('target', { timeouts: { ...FAST_TIMEOUTS, streamIdleMs: 150 } });
    nodes = [target];
    const received = collect(target);
    const rules = createDhtRecordRules({ clock: realClock, inspectAnnouncement: inspectTestAnnouncement });
    hostile = await createCosignerNode({
      identity: await generatePeerIdentity(seededRandom('staller')),
      listen: ['/ip4/127.0.0.1/tcp/0'],
      dht: { mode: 'server', addresses: 'all', rules },
    });
    const h = hostile.libp2p;
    const targetId = peerIdFromString(target.network.peerId);
    await h.dial(multiaddr(target.addr));
    const deliver = encodeMessage({ type: 'deliver', kind: 'session-message', payload: Uint8Array.of(1) });
    const oneFrameThen = async (after: Uint8Array) => {
      const stream = await h.dialProtocol(targetId, SESSION_PROTOCOL);
      const s = lpStream(stream);
      await s.write(deliver);
      expect(Uint8Array.from((await s.read()).subarray())).toEqual(encodeMessage({ type: 'ack' }));
      if (after.length > 0) stream.send(after);
      await waitFor('the target to end the stream', () => stream.status !== 'open' || stream.remoteWriteStatus !== 'writable', 5_000);
      return stream.status === 'open' ? `closed by the target, ${stream.remoteWriteStatus}` : stream.status;
    };
    // Quiet after a frame: closed (gracefully) after twice the idle time, no strike.
    expect(await oneFrameThen(new Uint8Array(0))).toBe('closed by the target, closed');
    expect(target.network.status().rejectedFrames.timeout ?? 0).toBe(0);
    // Half of a second frame, then nothing: a reset and a strike.
    expect(await oneFrameThen(Uint8Array.from([...varint(40), ...deliver]))).toBe('reset');
    expect(target.network.status().rejectedFrames.timeout).toBe(1);
    expect(received).toHaveLength(2);
  });
});
