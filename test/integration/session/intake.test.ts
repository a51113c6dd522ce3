/**
 * Strangers stay outside: a request is taken only from a co-signer of one of this node's saved
 * groups, for exactly that group. Everyone else is refused at the door (UNKNOWN_GROUP), before any
 * record, PSBT reading or delivery queue, so a stranger can neither fill the pending requests nor
 * make this node send anything. A co-signer's request refused on reading it is declined to its
 * creator only, within this node's own session timeout, a bounded number of times.
 * Real coordinators on the in-process network; sends go through the real delivery queues
 * (main/p2p/delivery.ts), the part whose table a stranger used to fill.
 */
import { describe, expect, it } from 'vitest';
import { Delivery } from '../../../main/p2p/delivery.ts';
import { signAnnouncement } from '../../../main/session/announcement.ts';
import type { AnnouncementBody, Payload } from '../../../main/session/codec.ts';
import type { SessionTransport } from '../../../main/session/ports.ts';
import type { FakeTime } from '../../support/fake-time.ts';
import type { InProcessTransport } from '../../support/in-process-network.ts';
import { seededRandom } from '../../support/random.ts';
import { Cluster } from '../../support/session-cluster.ts';
import { sentFrames } from '../../support/session-forge.ts';
import { testSigner, type TestSigner } from '../../support/signers.ts';

const FAR_FUTURE = Number.MAX_SAFE_INTEGER;
const JUNK_PSBT: Payload = { kind: 'psbt', network: 'regtest', allowNonDefaultSighash: false, psbt: Uint8Array.of(1, 2, 3) };
const HELLO: Payload = { kind: 'message', message: new Uint8Array(32).fill(7), label: 'hello' };

/** Every node's sends through a real Delivery (its 256-recipient table included), carried by the in-process network. */
function delivering(deliveries: Delivery[]) {
  return (index: number, inner: InProcessTransport, time: FakeTime): SessionTransport => {
    const delivery = new Delivery({
      clock: time,
      scheduler: time,
      random: seededRandom(`delivery/${index}`),
      attempt: (to, frame, kind) => inner.send(to, frame, { kind, sessionId: '', expiresAt: FAR_FUTURE }),
    });
    deliveries[index] = delivery;
    return {
      localPeerId: inner.localPeerId,
      send: (to, frame, meta) => delivery.send(to, frame, meta),
      subscribe: (handler) => inner.subscribe(handler),
      peerOf: (signer) => inner.peerOf(signer),
    };
  };
}

/** An announcement signed by `creator` for `signers` and itself, listed last (so that the node's
 *  DECLINEs to the others are queued before the one to the creator, which is delivered at once). */
function announce(
  c: Cluster,
  creator: TestSigner,
  signers: readonly Uint8Array[],
  payload: Payload,
  salt: number,
  expiresAt = c.time.now() + 3_600_000,
) {
  const now = c.time.now();
  const body: AnnouncementBody = {
    signers: [...signers, creator.publicKey],
    creatorIndex: signers.length,
    tweak: 'taproot',
    createdAt: now,
    expiresAt,
    salt: new Uint8Array(32).fill(salt),
    display: 'please sign',
    payload,
  };
  return signAnnouncement(body, creator.secret, new Uint8Array(32));
}

function rejected(c: Cluster, node: number): Record<string, number> {
  return c.nodes[node]!.coordinator.health().rejectedMessages;
}

describe('strangers stay outside', () => {
  it('a stranger cannot stop all signing with refused requests that make this node DECLINE to made-up signers (DECLINE flood)', async () => {
    const deliveries: Delivery[] = [];
    const c = new Cluster(2, { seed: 'decline-flood', transport: delivering(deliveries) });
    await c.start();
    const [alice, bob] = c.nodes as [Cluster['nodes'][0], Cluster['nodes'][0]];
    // Mallory has a bound signer card, so her announcements pass the peer binding; each lists Bob
    // and 14 keys nobody runs, and never expires.
    const mallory = testSigner('decline-flood/mallory');
    c.net.join('peer-m', mallory.publicKey);
    for (let n = 0; n < 20; n++) {
      const nobodies = Array.from({ length: 14 }, (_, i) => testSigner(`decline-flood/nobody/${n}/${i}`).publicKey);
      const request = announce(c, mallory, [bob.signer.publicKey, ...nobodies], JUNK_PSBT, n, FAR_FUTURE);
      c.net.deliver(bob.peerId, request.frame, 'peer-m');
    }
    await c.settle();
    // A genuine request between the two co-signers still completes.
    const s = await c.create(0);
    await c.runUntil(() => bob.requests.some((r) => r.sessionId === s.sessionId), 60_000);
    await bob.coordinator.approve(s.sessionId);
    expect(await c.runUntilPhase(s.sessionId, ['COMPLETE'], 10 * 60_000)).toBe(true);
    expect(rejected(c, 1)).toEqual({ UNKNOWN_GROUP: 20 });
    expect(sentFrames(c.net, { from: bob.peerId, to: 'peer-m' })).toEqual([]);
    expect(await bob.store.keys()).toEqual([s.sessionId]);
    expect(bob.coordinator.health().sendFailures).toBe(0);
    expect(deliveries[1]!.pendingSigners()).toEqual([]);
    expect(alice.coordinator.health().sendFailures).toBe(0);
  });

  it('a stranger cannot squat the pending-approval slots: a co-signer’s request still gets in', async () => {
    const c = new Cluster(2, { seed: 'squat' });
    await c.start();
    const bob = c.nodes[1]!;
    // Four strangers, eight requests each: as many as the pending-approval limit (32) allows.
    for (let m = 0; m < 4; m++) {
      const stranger = testSigner(`squat/stranger/${m}`);
      c.net.join(`peer-s${m}`, stranger.publicKey);
      for (let n = 0; n < 8; n++) c.net.deliver(bob.peerId, announce(c, stranger, [bob.signer.publicKey], HELLO, n).frame, `peer-s${m}`);
    }
    await c.settle();
    const s = await c.create(0);
    await c.runUntil(() => bob.requests.length > 0, 60_000);
    expect(bob.requests.map((r) => r.sessionId)).toEqual([s.sessionId]);
    expect(rejected(c, 1)).toEqual({ UNKNOWN_GROUP: 32 });
    expect(await bob.store.keys()).toEqual([s.sessionId]);
    expect(bob.coordinator.health().pendingApprovals).toBe(1);
  });

  it('takes a request only for exactly a saved group: a subset, a superset or another creator’s group is refused', async () => {
    // Groups saved everywhere: {0, 1} and {1, 2}.
    const c = new Cluster(4, {
      seed: 'exact-group',
      groups: [
        [0, 1],
        [1, 2],
      ],
    });
    await c.start();
    const [n0, n1, n2, n3] = c.nodes as [Cluster['nodes'][0], Cluster['nodes'][0], Cluster['nodes'][0], Cluster['nodes'][0]];
    const deliver = (creator: typeof n0, others: (typeof n0)[], salt: number) =>
      c.net.deliver(
        n1.peerId,
        announce(
          c,
          creator.signer,
          others.map((n) => n.signer.publicKey),
          HELLO,
          salt,
        ).frame,
        creator.peerId,
      );
    deliver(n0, [n1, n2], 1); // a superset of {0, 1}
    deliver(n3, [n1], 2); // node 3 is in no group with node 1
    deliver(n0, [n1, n3], 3);
    await c.settle();
    expect(rejected(c, 1)).toEqual({ UNKNOWN_GROUP: 3 });
    expect(n1.requests).toEqual([]);
    deliver(n0, [n1], 4);
    deliver(n2, [n1], 5);
    await c.settle();
    expect(n1.requests).toHaveLength(2);
  });

  it('declines a co-signer’s refused request to its creator only, within this node’s session timeout, a bounded number of times', async () => {
    const c = new Cluster(3, { seed: 'refusal-bound' });
    await c.start();
    const [alice, bob] = c.nodes as [Cluster['nodes'][0], Cluster['nodes'][0]];
    const others = [bob.signer.publicKey, c.nodes[2]!.signer.publicKey];
    const createdAt = c.time.now();
    for (let n = 0; n < 12; n++) c.net.deliver(bob.peerId, announce(c, alice.signer, others, JUNK_PSBT, n, FAR_FUTURE).frame, alice.peerId);
    await c.settle();
    expect(rejected(c, 1)).toEqual({ INVALID_PSBT: 12 });
    const declines = sentFrames(c.net, { from: bob.peerId, type: 'decline' });
    expect(declines.length).toBeGreaterThan(0);
    expect(declines.length).toBeLessThanOrEqual(4);
    for (const d of declines) {
      expect(d.to).toBe(alice.peerId);
      expect(d.meta.expiresAt).toBeLessThanOrEqual(createdAt + bob.coordinator.options.sessionTimeoutMs);
    }
    expect(sentFrames(c.net, { to: c.nodes[2]!.peerId })).toEqual([]);
  });
});
