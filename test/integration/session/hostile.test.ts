/**
 * Hostile peers and signers against real coordinators: forged, injected, replayed, misrouted, malformed
 * and oversized frames are rejected (and counted) without changing anything; a signer who sends an
 * invalid partial signature or equivocates on its nonces ends the session ABORTED with its name on it.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { appendSignature, decodeFrame, encodeAnnouncementBody } from '../../../main/session/codec.ts';
import { MAX_FRAME_BYTES } from '../../../main/session/limits.ts';
import { signMessage } from '../../../main/session/messages.ts';
import { Cluster } from '../../support/session-cluster.ts';
import { testSigner } from '../../support/signers.ts';
import { messageOf, resign, sentFrames, strayNonce, typeOf } from '../../support/session-forge.ts';

async function pending(c: Cluster, count = c.nodes.length) {
  const s = await c.create(0, {}, count);
  await c.runUntil(() => c.nodes.slice(1, count).every((n) => n.requests.some((r) => r.sessionId === s.sessionId)));
  return s;
}

async function approveAll(c: Cluster, sessionId: string, count = c.nodes.length) {
  for (const n of c.nodes.slice(1, count)) await n.coordinator.approve(sessionId);
}

function rejected(c: Cluster, node: number): Record<string, number> {
  return c.nodes[node]!.coordinator.health().rejectedMessages;
}

const mallory = testSigner('mallory');

describe('forged and misrouted messages change nothing', () => {
  it('rejects a message signed by a non-signer, or naming no signer', async () => {
    // Three signers, so that signer 1's approval is not the last one, which its NONCES would carry.
    const c = new Cluster(3, { seed: 'non-signer' });
    await c.start();
    const s = await pending(c);
    await c.nodes[1]!.coordinator.approve(s.sessionId);
    const approve = sentFrames(c.net, { from: 'peer-1', to: 'peer-0', type: 'approve' })[0]!.frame;
    // Same content, a later sequence number, signed by Mallory instead of the signer at index 1.
    c.net.deliver(
      'peer-0',
      resign(approve, mallory.secret, (m) => ({ ...m, sequence: 50 })),
      'peer-1',
    );
    c.net.deliver(
      'peer-0',
      resign(approve, mallory.secret, (m) => ({ ...m, sender: 7 })),
      'peer-1',
    );
    await c.settle();
    expect(rejected(c, 0)).toEqual({ BAD_SIGNATURE: 1, NOT_A_SIGNER: 1 });
    // The genuine approval still goes through: nothing moved the sequence window.
    expect(await c.runUntil(() => c.snapshot(0, s.sessionId)!.signers[1]!.approved)).toBe(true);
    await c.nodes[2]!.coordinator.approve(s.sessionId);
    expect(await c.runUntilPhase(s.sessionId, ['COMPLETE'])).toBe(true);
  });

  it('rejects a valid message from the wrong peer, from an unknown peer, or from an unbound signer', async () => {
    const c = new Cluster(3, { seed: 'wrong-peer' });
    await c.start();
    const s = await pending(c);
    c.net.tamper = (sent) => (sent.from === 'peer-1' && sent.to === 'peer-0' ? undefined : sent.frame);
    await c.nodes[1]!.coordinator.approve(s.sessionId);
    await c.runUntil(() => false, 1000);
    const approve = sentFrames(c.net, { from: 'peer-1', to: 'peer-0', type: 'approve' })[0]!.frame;
    c.net.deliver('peer-0', approve, 'peer-2');
    c.net.deliver('peer-0', approve, 'peer-x');
    const binding = c.net.directory.get(c.nodes[1]!.signer.hex)!;
    c.net.directory.delete(c.nodes[1]!.signer.hex);
    c.net.deliver('peer-0', approve, 'peer-1');
    await c.settle();
    expect(rejected(c, 0)).toEqual({ WRONG_PEER: 3 });
    expect(c.snapshot(0, s.sessionId)!.signers[1]!.approved).toBe(false);
    // With the signer card back, the very same frame is accepted.
    c.net.directory.set(c.nodes[1]!.signer.hex, binding);
    c.net.deliver('peer-0', approve, 'peer-1');
    await c.settle();
    expect(c.snapshot(0, s.sessionId)!.signers[1]!.approved).toBe(true);
  });

  it('rejects replays of join, nonce and partial signature messages, and of the announcement', async () => {
    const c = new Cluster(3, { seed: 'replay' });
    await c.start();
    const s = await pending(c);
    await approveAll(c, s.sessionId);
    expect(await c.runUntilPhase(s.sessionId, ['COMPLETE'])).toBe(true);
    const to0 = (type: 'approve' | 'nonces' | 'partials') => sentFrames(c.net, { from: 'peer-1', to: 'peer-0', type })[0]!.frame;
    for (const type of ['approve', 'nonces', 'partials'] as const) c.net.deliver('peer-0', to0(type), 'peer-1');
    c.net.deliver('peer-1', sentFrames(c.net, { type: 'announcement' })[0]!.frame, 'peer-0');
    await c.settle();
    expect(rejected(c, 0)).toEqual({ REPLAYED: 3 });
    expect(rejected(c, 1)).toEqual({ REPLAYED: 1 });
    expect(c.snapshot(0, s.sessionId)!.phase).toBe('COMPLETE');
  });

  it('rejects sequence gaps over the limit, stale timestamps, and this node’s own messages sent back', async () => {
    const c = new Cluster(2, { seed: 'gap' });
    await c.start();
    const s = await pending(c);
    const secretB = c.nodes[1]!.signer.secret;
    const base = signMessage(
      {
        sessionId: Uint8Array.from(Buffer.from(s.sessionId, 'hex')),
        sender: 1,
        attempt: 1,
        sequence: 1,
        timestamp: c.time.now(),
        body: { type: 'approve' },
      },
      secretB,
      new Uint8Array(32),
    );
    c.net.deliver(
      'peer-0',
      resign(base, secretB, (m) => ({ ...m, sequence: 101 })),
      'peer-1',
    );
    c.net.deliver(
      'peer-0',
      resign(base, secretB, (m) => ({ ...m, timestamp: m.timestamp - 5 * 60_000 - 1 })),
      'peer-1',
    );
    c.net.deliver(
      'peer-0',
      resign(base, secretB, (m) => ({ ...m, timestamp: m.timestamp + 5 * 60_000 + 1 })),
      'peer-1',
    );
    c.net.deliver(
      'peer-0',
      resign(base, secretB, (m) => ({ ...m, attempt: 6 })),
      'peer-1',
    );
    const own = resign(base, c.nodes[0]!.signer.secret, (m) => ({ ...m, sender: 0 }));
    c.net.deliver('peer-0', own, 'peer-1');
    c.net.deliver('peer-0', own, 'peer-0');
    await c.settle();
    expect(rejected(c, 0)).toEqual({ SEQUENCE_GAP: 1, TIMESTAMP_OUT_OF_WINDOW: 2, LIMIT_REACHED: 1, REPLAYED: 2 });
    expect(c.snapshot(0, s.sessionId)!.signers[1]!.approved).toBe(false);
    c.net.deliver(
      'peer-0',
      resign(base, secretB, (m) => ({ ...m, sequence: 100 })),
      'peer-1',
    );
    await c.settle();
    expect(c.snapshot(0, s.sessionId)!.signers[1]!.approved).toBe(true);
  });

  it('isolates sessions: a message cannot be moved to another session, and sequence numbers are per session', async () => {
    const c = new Cluster(3, { seed: 'isolation' });
    await c.start();
    const one = await pending(c);
    const two = await pending(c);
    await approveAll(c, one.sessionId);
    await c.runUntilPhase(one.sessionId, ['COMPLETE']);
    const approveOne = sentFrames(c.net, { from: 'peer-1', to: 'peer-0', type: 'approve' })[0]!.frame;
    const moved = approveOne.slice();
    moved.set(Buffer.from(two.sessionId, 'hex'), 2);
    c.net.deliver('peer-0', moved, 'peer-1');
    await c.settle();
    expect(rejected(c, 0)).toEqual({ BAD_SIGNATURE: 1 });
    // Node 1 used sequence numbers 1..3 in session one; session two starts again at 1 and is accepted.
    await approveAll(c, two.sessionId);
    expect(await c.runUntilPhase(two.sessionId, ['COMPLETE'])).toBe(true);
    const approvals = sentFrames(c.net, { from: 'peer-1', to: 'peer-0', type: 'approve' });
    expect(approvals).toHaveLength(2);
    expect(messageOf(approvals[1]!.frame).sequence).toBe(1);
  });
});

describe('replay protection switched off', () => {
  it('skips sequence and timestamp checks only: duplicates change nothing, signatures and peers still count', async () => {
    const c = new Cluster(2, { seed: 'replay-off', options: { enableReplayProtection: false } });
    await c.start();
    const s = await pending(c);
    await approveAll(c, s.sessionId);
    await c.runUntil(() => c.snapshot(0, s.sessionId)!.signers[1]!.nonceReceived);
    const nonces = sentFrames(c.net, { from: 'peer-1', type: 'nonces' })[0]!.frame;
    const stale = resign(nonces, c.nodes[1]!.signer.secret, (m) => ({ ...m, timestamp: m.timestamp - 3_600_000 }));
    c.net.deliver('peer-0', nonces, 'peer-1');
    c.net.deliver('peer-0', stale, 'peer-1');
    c.net.deliver('peer-0', nonces, 'peer-x');
    c.net.deliver('peer-0', resign(nonces, mallory.secret), 'peer-1');
    expect(await c.runUntilPhase(s.sessionId, ['COMPLETE'])).toBe(true);
    expect(rejected(c, 0)).toEqual({ WRONG_PEER: 1, BAD_SIGNATURE: 1 });
  });
});

describe('hostile announcements are never shown', () => {
  it('rejects a forged announcement, one not naming this node, one from the wrong peer, and junk', async () => {
    const c = new Cluster(3, { seed: 'forged', groups: [[0, 1]] });
    await c.start();
    c.net.tamper = (sent) => (typeOf(sent.frame) === 'announcement' ? undefined : sent.frame);
    const s = await c.create(0, {}, 2); // only nodes 0 and 1
    await c.settle();
    const genuine = sentFrames(c.net, { type: 'announcement', to: 'peer-1' })[0]!.frame;
    c.net.tamper = undefined;

    const tampered = genuine.slice();
    const inMessage = genuine.length - 64 - 4 - 5 - 10; // the frame ends: message | label length | "hello" | signature
    tampered[inMessage] = (tampered[inMessage] as number) ^ 1;
    c.net.deliver('peer-1', tampered, 'peer-0');
    // Mallory re-signs Alice's announcement after putting herself in place of node 1.
    const d = decodeFrame(genuine);
    if (d.type !== 'announcement') throw new Error('expected an announcement');
    const forgedBody = encodeAnnouncementBody({ ...d.body, signers: [d.body.signers[0]!, mallory.publicKey] });
    c.net.deliver('peer-1', appendSignature(forgedBody, d.signature), 'peer-0');
    c.net.deliver('peer-2', genuine, 'peer-0'); // node 2 is not a signer
    c.net.deliver('peer-1', genuine, 'peer-2'); // not from the creator's peer
    c.net.deliver('peer-1', new Uint8Array(MAX_FRAME_BYTES + 1), 'peer-0');
    c.net.deliver('peer-1', Uint8Array.of(1, 1, 2, 3), 'peer-0');
    c.net.deliver('peer-1', Uint8Array.of(9, ...genuine.slice(1)), 'peer-0');
    await c.settle();
    expect(rejected(c, 1)).toEqual({ BAD_SIGNATURE: 2, WRONG_PEER: 1, OVERSIZED_MESSAGE: 1, MALFORMED_MESSAGE: 1, UNSUPPORTED_VERSION: 1 });
    expect(rejected(c, 2)).toEqual({ NOT_A_SIGNER: 1 });
    expect(c.nodes[1]!.requests).toEqual([]);
    expect(c.nodes[2]!.requests).toEqual([]);
    expect(await c.nodes[1]!.store.keys()).toEqual([]);
    c.net.deliver('peer-1', genuine, 'peer-0');
    await c.settle();
    expect(c.nodes[1]!.requests.map((r) => r.sessionId)).toEqual([s.sessionId]);
  });
});

describe('identifiable abort', () => {
  it('names the signer whose partial signature is invalid', async () => {
    const c = new Cluster(3, { seed: 'bad-partial' });
    await c.start();
    const s = await pending(c);
    const secretB = c.nodes[1]!.signer.secret;
    c.net.tamper = (sent) =>
      sent.from === 'peer-1' && typeOf(sent.frame) === 'partials'
        ? resign(sent.frame, secretB, (m) => {
            if (m.body.type !== 'partials') return m;
            const wrong = Uint8Array.from(m.body.partials[0]!);
            wrong[31] = (wrong[31] as number) ^ 1;
            return { ...m, body: { ...m.body, partials: [wrong] } };
          })
        : sent.frame;
    await approveAll(c, s.sessionId);
    const ended = (i: number) => c.snapshot(i, s.sessionId)!.phase === 'ABORTED';
    expect(await c.runUntil(() => ended(0) && ended(2))).toBe(true);
    for (const i of [0, 2]) {
      expect(c.snapshot(i, s.sessionId)!.failure).toMatchObject({
        code: 'INVALID_PARTIAL_SIGNATURE',
        blame: [1],
        blamedSignerIndex: 1,
        reportedBy: i,
      });
      expect(c.nodes[i]!.events.every((e) => e.signatures.length === 0)).toBe(true);
    }
    // Node 1's own copy of its partial signature was fine (it was changed in flight): it may have finished.
    expect(await c.runUntil(() => ['COMPLETE', 'ABORTED'].includes(c.snapshot(1, s.sessionId)!.phase))).toBe(true);
  });

  it('names a signer who sends one peer two different nonces in one attempt', async () => {
    const c = new Cluster(2, { seed: 'equivocate-direct' });
    await c.start();
    const s = await pending(c);
    const secretB = c.nodes[1]!.signer.secret;
    c.net.tamper = (sent) => (sent.from === 'peer-1' && typeOf(sent.frame) === 'partials' ? undefined : sent.frame);
    await approveAll(c, s.sessionId);
    await c.runUntil(() => c.snapshot(0, s.sessionId)!.signers[1]!.nonceReceived);
    const nonces = sentFrames(c.net, { from: 'peer-1', type: 'nonces' })[0]!.frame;
    c.net.deliver(
      'peer-0',
      resign(nonces, secretB, (m) => ({ ...m, sequence: m.sequence + 5, body: { type: 'nonces', nonces: [strayNonce(1)] } })),
      'peer-1',
    );
    expect(await c.runUntil(() => c.snapshot(0, s.sessionId)!.phase === 'ABORTED')).toBe(true);
    expect(c.snapshot(0, s.sessionId)!.failure).toMatchObject({ code: 'EQUIVOCATION', blame: [1], reportedBy: 0 });
  });

  it('names a signer who shows different nonces to different peers, not the honest peers', async () => {
    const c = new Cluster(3, { seed: 'equivocate-split' });
    await c.start();
    const s = await pending(c);
    const secretB = c.nodes[1]!.signer.secret;
    // Node 1 shows node 2 other (validly signed) nonces than it shows node 0.
    c.net.tamper = (sent) =>
      sent.from === 'peer-1' && sent.to === 'peer-2' && typeOf(sent.frame) === 'nonces'
        ? resign(sent.frame, secretB, (m) => ({ ...m, body: { type: 'nonces', nonces: [strayNonce(2)] } }))
        : sent.frame;
    await approveAll(c, s.sessionId);
    expect(await c.runUntilPhase(s.sessionId, ['ABORTED'])).toBe(true);
    for (const i of [0, 2]) expect(c.snapshot(i, s.sessionId)!.failure).toMatchObject({ code: 'EQUIVOCATION', blame: [1] });
  });

  it('names a peer who forwards nonces their signer never signed', async () => {
    const c = new Cluster(3, { seed: 'forged-evidence' });
    await c.start();
    const s = await pending(c);
    const secretC = c.nodes[2]!.signer.secret;
    c.net.tamper = (sent) =>
      sent.from === 'peer-2' && sent.to === 'peer-0' && typeOf(sent.frame) === 'partials'
        ? resign(sent.frame, secretC, (m) => {
            if (m.body.type !== 'partials') return m;
            const evidence = m.body.evidence.map((e, i) => (i === 1 ? { ...e, nonces: [strayNonce(3)] } : e));
            return { ...m, body: { ...m.body, evidence } };
          })
        : sent.frame;
    await approveAll(c, s.sessionId);
    expect(await c.runUntil(() => c.snapshot(0, s.sessionId)!.phase === 'ABORTED')).toBe(true);
    expect(c.snapshot(0, s.sessionId)!.failure).toMatchObject({ code: 'BAD_SIGNATURE', blame: [2] });
  });

  it('notices its own key signing nonces it did not make (the key in use on another device)', async () => {
    const c = new Cluster(3, { seed: 'twin' });
    await c.start();
    const s = await pending(c);
    const secretA = c.nodes[0]!.signer.secret;
    const secretC = c.nodes[2]!.signer.secret;
    c.net.tamper = (sent) => {
      if (!(sent.from === 'peer-2' && sent.to === 'peer-0' && typeOf(sent.frame) === 'partials')) return sent.frame;
      return resign(sent.frame, secretC, (m) => {
        if (m.body.type !== 'partials') return m;
        // A NONCES message really signed with node 0's key, which node 0 never sent.
        const twin = signMessage(
          { ...m, sender: 0, sequence: 9, body: { type: 'nonces', nonces: [strayNonce(4)] } },
          secretA,
          new Uint8Array(32),
        );
        const evidence = m.body.evidence.map((e, i) =>
          i === 0 ? { sequence: 9, timestamp: m.timestamp, signature: twin.slice(-64), nonces: [strayNonce(4)] } : e,
        );
        return { ...m, body: { ...m.body, evidence } };
      });
    };
    await approveAll(c, s.sessionId);
    expect(await c.runUntil(() => c.snapshot(0, s.sessionId)!.phase === 'ABORTED')).toBe(true);
    expect(c.snapshot(0, s.sessionId)!.failure).toMatchObject({ code: 'EQUIVOCATION', blame: [0] });
    expect(c.snapshot(0, s.sessionId)!.failure!.reason).toMatch(/another device/);
  });

  it('names a signer who sends malformed or invalid nonces', async () => {
    for (const [nonces, code] of [
      [[strayNonce(5), strayNonce(6)], 'MALFORMED_MESSAGE'],
      [[new Uint8Array(66).fill(0xff)], 'INVALID_PUBLIC_NONCE'],
    ] as const) {
      const c = new Cluster(2, { seed: `bad-nonce-${code}` });
      await c.start();
      const s = await pending(c);
      const secretB = c.nodes[1]!.signer.secret;
      c.net.tamper = (sent) =>
        sent.from === 'peer-1' && typeOf(sent.frame) === 'nonces'
          ? resign(sent.frame, secretB, (m) => ({ ...m, body: { type: 'nonces', nonces: [...nonces] } }))
          : sent.frame;
      c.net.tamper = ((t) => (sent) => (sent.from === 'peer-1' && typeOf(sent.frame) === 'partials' ? undefined : t(sent)))(c.net.tamper);
      await approveAll(c, s.sessionId);
      expect(await c.runUntil(() => c.snapshot(0, s.sessionId)!.phase === 'ABORTED')).toBe(true);
      expect(c.snapshot(0, s.sessionId)!.failure, code).toMatchObject({ code, blame: [1] });
    }
  });
});

describe('secrets', () => {
  it('never stores or reports a secret key or secret nonce', async () => {
    const c = new Cluster(2, { seed: 'secrets' });
    await c.start();
    const s = await pending(c);
    await approveAll(c, s.sessionId);
    await c.runUntilPhase(s.sessionId, ['COMPLETE']);
    const everything = [
      ...c.nodes.map((n) => JSON.stringify(n.events)),
      ...c.nodes.map((n) => (n.store as unknown as { dump(): string }).dump()),
      ...c.net.log.map((f) => bytesToHex(f.frame)),
    ].join('\n');
    for (const n of c.nodes) expect(everything.includes(bytesToHex(n.signer.secret))).toBe(false);
  });
});
