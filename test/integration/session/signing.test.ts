/**
 * Whole sessions between real coordinators over the in-process transport, with the real MuSig2 engine:
 * the signatures are checked against keys computed independently (scure's BIP327 and BIP341 code), as
 * BIP322 signatures by bip322-js.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { p2tr } from '@scure/btc-signer';
import { keyAggExport, keyAggregate, sortKeys } from '@scure/btc-signer/musig2.js';
import { describe, expect, it } from 'vitest';
import { CoordinatorHealth, SessionSnapshot as SnapshotSchema } from '../../../preload/contract.ts';
import { decodeFrame } from '../../../main/session/codec.ts';
import type { SessionSnapshot } from '../../../main/session/snapshot.ts';
import { verifiesAsBip322 } from '../../support/bip322-check.ts';
import { Cluster } from '../../support/session-cluster.ts';

function internalKey(c: Cluster, count = c.nodes.length): Uint8Array {
  return keyAggExport(keyAggregate(sortKeys(c.nodes.slice(0, count).map((n) => n.signer.publicKey))));
}

function verifyAll(s: SessionSnapshot, key: Uint8Array): void {
  expect(s.phase).toBe('COMPLETE');
  expect(s.signingKey).toBe(bytesToHex(key));
  expect(s.signatures).toHaveLength(s.messages.length);
  expect(verifiesAsBip322(s, key)).toBe(true);
}

async function approveAll(c: Cluster, sessionId: string, except: number[] = [0]): Promise<void> {
  await c.runUntil(() => c.nodes.every((n, i) => except.includes(i) || n.requests.some((r) => r.sessionId === sessionId)));
  for (const [i, n] of c.nodes.entries()) if (!except.includes(i)) await n.coordinator.approve(sessionId);
}

describe('a co-signing session', () => {
  it('completes between two signers under the taproot output key, the same signature on both', async () => {
    const c = new Cluster(2);
    await c.start();
    const s = await c.create(0, { description: 'rent' });
    expect(s.phase).toBe('AWAITING_APPROVAL');
    expect(s.signers.map((x) => x.approved)).toEqual([true, false]);
    await approveAll(c, s.sessionId);
    expect(await c.runUntilPhase(s.sessionId, ['COMPLETE'])).toBe(true);
    const output = p2tr(internalKey(c)).tweakedPubkey;
    for (const i of [0, 1]) verifyAll(c.snapshot(i, s.sessionId)!, output);
    expect(c.snapshot(0, s.sessionId)!.signatures).toEqual(c.snapshot(1, s.sessionId)!.signatures);
    expect(c.snapshot(1, s.sessionId)!.description).toBe('rent');
  });

  it('signs a batch of messages with three signers', async () => {
    const c = new Cluster(3, { seed: 'batch' });
    await c.start();
    const items = ['aa', 'bbbb', 'cc'.repeat(32)].map((message, i) => ({ message, label: `input ${i}` }));
    const s = await c.create(1, { payload: { kind: 'batch', items } });
    await approveAll(c, s.sessionId, [1]);
    expect(await c.runUntilPhase(s.sessionId, ['COMPLETE'])).toBe(true);
    const snap = c.snapshot(2, s.sessionId)!;
    verifyAll(snap, p2tr(internalKey(c)).tweakedPubkey);
    expect(snap.messages.map((m) => m.display)).toEqual(['input 0', 'input 1', 'input 2']);
    expect(snap.payloadKind).toBe('batch');
  });

  it('has one aggregate key whatever order the creator lists the signers in', async () => {
    const c = new Cluster(3, { seed: 'order' });
    await c.start();
    const hexes = c.signerHexes();
    const a = await c.create(0, { signers: hexes });
    const b = await c.create(0, { signers: [hexes[2]!, hexes[0]!, hexes[1]!] });
    expect(a.signingKey).toBe(b.signingKey);
    expect(b.signers.find((x) => x.isLocal)!.index).toBe(1);
  });

  it('reports every step with a growing version, ending with the stored signature', async () => {
    const c = new Cluster(2, { seed: 'events' });
    await c.start();
    const s = await c.create(0);
    const stored: unknown[] = [];
    c.nodes[1]!.coordinator.on('session', (snap) => {
      if (snap.phase === 'COMPLETE') void c.nodes[1]!.store.get(snap.sessionId).then((r) => stored.push(r));
    });
    await approveAll(c, s.sessionId);
    await c.runUntilPhase(s.sessionId, ['COMPLETE']);
    for (const node of c.nodes) {
      const events = node.events.filter((e) => e.sessionId === s.sessionId);
      const phases = [...new Set(events.map((e) => e.phase))];
      expect(phases).toEqual(['AWAITING_APPROVAL', 'NONCE_EXCHANGE', 'PARTIAL_SIG_EXCHANGE', 'COMPLETE']);
      const versions = events.map((e) => e.version);
      expect([...versions].sort((x, y) => x - y)).toEqual(versions);
      expect(new Set(versions).size).toBe(versions.length);
      const last = events.at(-1)!;
      expect(last.signers.every((x) => x.approved && x.nonceReceived && x.partialSignatureReceived)).toBe(true);
    }
    await c.settle();
    // What was reported COMPLETE was already in the store, signature included.
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ phase: 'COMPLETE', signatures: c.snapshot(1, s.sessionId)!.signatures });
  });

  it('makes no nonce and signs nothing until the local user approves', async () => {
    const c = new Cluster(3, { seed: 'gate' });
    await c.start();
    const s = await c.create(0);
    await c.runUntil(() => c.nodes[2]!.requests.length === 1);
    await c.nodes[1]!.coordinator.approve(s.sessionId);
    await c.runUntil(() => false, 30 * 60_000);
    const sentBy = (peer: string) => c.net.log.filter((f) => f.from === peer).map((f) => decodeFrame(f.frame).type);
    expect(sentBy('peer-2')).toEqual([]);
    expect(new Set(sentBy('peer-1'))).toEqual(new Set(['approve']));
    expect(new Set(sentBy('peer-0'))).toEqual(new Set(['announcement']));
    expect(c.snapshot(0, s.sessionId)!.phase).toBe('AWAITING_APPROVAL');
    expect(c.snapshot(2, s.sessionId)!.awaitingLocalApproval).toBe(true);
    await c.nodes[2]!.coordinator.approve(s.sessionId);
    expect(await c.runUntilPhase(s.sessionId, ['COMPLETE'])).toBe(true);
    // The last approval goes out as its NONCES alone, which every peer counts as approval.
    expect(sentBy('peer-2')).not.toContain('approve');
    expect(new Set(sentBy('peer-2'))).toEqual(new Set(['nonces', 'partials']));
    expect(c.snapshot(1, s.sessionId)!.signers[2]!.approved).toBe(true);
  });

  it('lets a headless co-signer approve by explicit policy (off by default)', async () => {
    const c = new Cluster(2, {
      seed: 'auto',
      nodeOptions: (i) => (i === 1 ? { autoApprove: (r) => r.description === 'routine' } : {}),
    });
    await c.start();
    expect(c.nodes[0]!.coordinator.options.autoApprove).toBeUndefined();
    const routine = await c.create(0, { description: 'routine' });
    const unusual = await c.create(0, { description: 'unusual' });
    expect(await c.runUntilPhase(routine.sessionId, ['COMPLETE'])).toBe(true);
    expect(c.snapshot(1, unusual.sessionId)!.phase).toBe('AWAITING_APPROVAL');
  });

  it('ends for everyone when one signer declines, naming who', async () => {
    const c = new Cluster(3, { seed: 'decline' });
    await c.start();
    const s = await c.create(0);
    await c.runUntil(() => c.nodes[2]!.requests.length === 1);
    await c.nodes[1]!.coordinator.approve(s.sessionId);
    const declined = await c.nodes[2]!.coordinator.decline(s.sessionId, 'wrong amount');
    expect(declined.phase).toBe('DECLINED');
    expect(await c.runUntilPhase(s.sessionId, ['DECLINED'])).toBe(true);
    for (const i of [0, 1, 2]) {
      expect(c.snapshot(i, s.sessionId)!.failure).toEqual({
        code: 'DECLINED',
        reason: 'wrong amount',
        blamedSignerIndex: 2,
        blame: [2],
        reportedBy: 2,
        verified: true,
      });
    }
    await expect(c.nodes[1]!.coordinator.approve(s.sessionId)).rejects.toMatchObject({ code: 'DECLINED' });
    await expect(c.nodes[0]!.coordinator.decline(s.sessionId)).rejects.toMatchObject({ code: 'DECLINED' });
  });

  it('lets a signer who approved abort instead of decline, for everyone', async () => {
    const c = new Cluster(2, { seed: 'abort' });
    await c.start();
    const s = await c.create(0);
    await expect(c.nodes[0]!.coordinator.decline(s.sessionId)).rejects.toMatchObject({ code: 'WRONG_PHASE' });
    await c.nodes[0]!.coordinator.abort(s.sessionId, 'changed my mind');
    expect(await c.runUntilPhase(s.sessionId, ['ABORTED'])).toBe(true);
    expect(c.snapshot(1, s.sessionId)!.failure).toMatchObject({ code: 'ABORTED', reason: 'changed my mind', reportedBy: 0, blame: [] });
  });

  it('validates what the creator asks for', async () => {
    const c = new Cluster(2, { seed: 'input' });
    await c.start();
    const me = c.nodes[0]!.signer.hex;
    const other = c.nodes[1]!.signer.hex;
    await expect(c.create(0, { signers: [other, c.nodes[1]!.signer.hex.replace(/^0./, '02')] })).rejects.toMatchObject({
      code: 'NOT_A_SIGNER',
    });
    await expect(c.create(0, { signers: [me, me] })).rejects.toMatchObject({ code: 'DUPLICATE_SIGNER' });
    await expect(c.create(0, { signers: [me, 'zz'] })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(c.create(0, { expiresInMs: 3 * 3_600_000 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(c.create(0, { tweak: undefined as never })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(c.create(0, { payload: { kind: 'message', message: '' } })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(c.create(0, { payload: { kind: 'batch', items: [] } })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    const seventeen = Array.from({ length: 17 }, (_, i) => (i === 0 ? me : `02${(i + 1).toString(16).padStart(64, '0')}`));
    await expect(c.create(0, { signers: seventeen })).rejects.toMatchObject({ code: 'TOO_MANY_SIGNERS' });
    expect(c.nodes[0]!.coordinator.list()).toEqual([]);
  });

  it('reports health: sessions by phase, oldest age, pending approvals, last cleanup, rejections', async () => {
    const c = new Cluster(2, { seed: 'health' });
    const started = c.time.now();
    await c.start();
    const s = await c.create(0);
    await c.runUntil(() => c.nodes[1]!.requests.length === 1);
    await c.time.advance(90_000, () => c.settle());
    c.net.deliver('peer-1', new Uint8Array([1, 2, 3]), 'peer-0');
    await c.settle();
    const h = c.nodes[1]!.coordinator.health();
    expect(h.sessionsByPhase.AWAITING_APPROVAL).toBe(1);
    expect(h.pendingApprovals).toBe(1);
    expect(h.oldestSessionAgeMs).toBe(c.time.now() - s.createdAt);
    expect(h.lastCleanupAt).toBe(started + 60_000);
    expect(h.rejectedMessages).toEqual({ MALFORMED_MESSAGE: 1 });
    expect(c.nodes[0]!.coordinator.health().pendingApprovals).toBe(0);
  });

  it('produces snapshots and health that satisfy the UI contract', async () => {
    const c = new Cluster(3, { seed: 'contract' });
    await c.start();
    const done = await c.create(0);
    const declined = await c.create(0);
    await c.runUntil(() => c.nodes[2]!.requests.length === 2);
    await c.nodes[1]!.coordinator.approve(done.sessionId);
    await c.nodes[2]!.coordinator.approve(done.sessionId);
    await c.nodes[2]!.coordinator.decline(declined.sessionId, 'no');
    await c.runUntilPhase(done.sessionId, ['COMPLETE']);
    await c.runUntilPhase(declined.sessionId, ['DECLINED']);
    const snapshots = c.nodes.flatMap((n) => n.events);
    expect(snapshots.length).toBeGreaterThan(10);
    for (const snap of snapshots) {
      const parsed = SnapshotSchema.safeParse(JSON.parse(JSON.stringify(snap)));
      expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
    }
    for (const n of c.nodes) expect(CoordinatorHealth.safeParse(n.coordinator.health()).success).toBe(true);
  });
});
