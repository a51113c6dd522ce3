/**
 * Restarts: what was decided survives (records on real files where it matters), a node never signs
 * with a nonce made before its restart, and a session cut off mid-exchange goes on in a new attempt.
 */
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileRecordStore } from '../../../main/storage/record-store.ts';
import type { SessionSnapshot } from '../../../main/session/snapshot.ts';
import { verifiesAsBip322 } from '../../support/bip322-check.ts';
import { Cluster } from '../../support/session-cluster.ts';
import { MemoryRecordStore } from '../../support/memory-record-store.ts';
import { messageOf, resign, sentFrames, typeOf } from '../../support/session-forge.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function fileStores(count: number): Promise<{ paths: string[]; stores: FileRecordStore[] }> {
  const root = await mkdtemp(join(tmpdir(), 'cosigner-restart-'));
  dirs.push(root);
  const paths = Array.from({ length: count }, (_, i) => join(root, `node-${i}`));
  return { paths, stores: await Promise.all(paths.map((p) => FileRecordStore.open(p))) };
}

function verified(s: SessionSnapshot): boolean {
  return s.phase === 'COMPLETE' && verifiesAsBip322(s, hexToBytes(s.signingKey));
}

/** Three nodes; node 2 sends its nonces, then hears nothing more: the others wait for its partial signature. */
async function cutOffMidExchange(seed: string, stores?: (i: number) => FileRecordStore | MemoryRecordStore) {
  const c = new Cluster(3, { seed, ...(stores ? { stores } : {}) });
  await c.start();
  const s = await c.create(0);
  await c.runUntil(() => c.nodes.slice(1).every((n) => n.requests.length === 1));
  c.net.tamper = (sent) => (sent.to === 'peer-2' && typeOf(sent.frame) !== 'approve' ? undefined : sent.frame);
  for (const n of c.nodes.slice(1)) await n.coordinator.approve(s.sessionId);
  await c.runUntil(() => [0, 1].every((i) => c.snapshot(i, s.sessionId)!.phase === 'PARTIAL_SIG_EXCHANGE'));
  expect(c.snapshot(2, s.sessionId)!.phase).toBe('NONCE_EXCHANGE');
  c.net.tamper = undefined;
  return { c, s };
}

describe('persistence across restarts', () => {
  it('keeps every finished signature on disk through a restart', async () => {
    const { paths, stores } = await fileStores(2);
    const c = new Cluster(2, { seed: 'disk', stores: (i) => stores[i]! });
    await c.start();
    const s = await c.create(0, { payload: { kind: 'batch', items: [{ message: 'aa' }, { message: 'bb' }] } });
    await c.runUntil(() => c.nodes[1]!.requests.length === 1);
    await c.nodes[1]!.coordinator.approve(s.sessionId);
    await c.runUntilPhase(s.sessionId, ['COMPLETE']);
    const before = c.snapshot(1, s.sessionId)!;
    for (const node of c.nodes) await c.restart(node, await FileRecordStore.open(paths[node.index]!));
    for (const node of c.nodes) {
      const after = node.coordinator.list().find((x) => x.sessionId === s.sessionId)!;
      expect(after.signatures).toEqual(before.signatures);
      expect(verified(after)).toBe(true);
      expect((await node.coordinator.history()).sessions.map((x) => x.sessionId)).toEqual([s.sessionId]);
    }
  });

  it('remembers the sequence numbers it accepted, so old messages stay replays after a restart', async () => {
    const c = new Cluster(3, { seed: 'seq-restart' });
    await c.start();
    const s = await c.create(0);
    await c.runUntil(() => c.nodes.slice(1).every((n) => n.requests.length === 1));
    await c.nodes[1]!.coordinator.approve(s.sessionId);
    await c.runUntil(() => c.snapshot(0, s.sessionId)!.signers[1]!.approved);
    await c.restart(c.nodes[0]!);
    c.net.deliver('peer-0', sentFrames(c.net, { from: 'peer-1', type: 'approve' })[0]!.frame, 'peer-1');
    c.net.deliver('peer-1', sentFrames(c.net, { type: 'announcement', to: 'peer-1' })[0]!.frame, 'peer-0');
    await c.settle();
    expect(c.nodes[0]!.coordinator.health().rejectedMessages).toEqual({ REPLAYED: 1 });
    expect(c.nodes[1]!.coordinator.health().rejectedMessages).toEqual({ REPLAYED: 1 });
    await c.nodes[2]!.coordinator.approve(s.sessionId);
    expect(await c.runUntilPhase(s.sessionId, ['COMPLETE'])).toBe(true);
  });

  it('keeps a request awaiting approval through a restart, and it can still be approved', async () => {
    const c = new Cluster(2, { seed: 'pending-restart' });
    await c.start();
    const s = await c.create(0);
    await c.runUntil(() => c.nodes[1]!.requests.length === 1);
    await c.restart(c.nodes[1]!);
    const restored = c.snapshot(1, s.sessionId)!;
    expect(restored).toMatchObject({ phase: 'AWAITING_APPROVAL', awaitingLocalApproval: true, interrupted: false });
    await c.nodes[1]!.coordinator.approve(s.sessionId);
    expect(await c.runUntilPhase(s.sessionId, ['COMPLETE'])).toBe(true);
  });

  it('skips a corrupt record and loads the others', async () => {
    const { paths, stores } = await fileStores(2);
    const c = new Cluster(2, { seed: 'corrupt', stores: (i) => stores[i]! });
    await c.start();
    const s = await c.create(0);
    await c.runUntil(() => c.nodes[1]!.requests.length === 1);
    await writeFile(join(paths[1]!, `${'0'.repeat(64)}.json`), '{"format":1,"sessionId":"nonsense"}');
    await writeFile(join(paths[1]!, `${'1'.repeat(64)}.json`), '{broken');
    await c.restart(c.nodes[1]!, await FileRecordStore.open(paths[1]!));
    expect(c.nodes[1]!.coordinator.list().map((x) => x.sessionId)).toEqual([s.sessionId]);
    expect(c.nodes[1]!.coordinator.health().corruptRecords).toBe(2);
  });

  it('reports nothing as done that it could not store', async () => {
    const store = new MemoryRecordStore();
    const c = new Cluster(2, { seed: 'disk-full', stores: (i) => (i === 1 ? store : new MemoryRecordStore()) });
    await c.start();
    const s = await c.create(0);
    await c.runUntil(() => c.nodes[1]!.requests.length === 1);
    const sentBefore = c.net.log.length;
    store.failWrites = true;
    await expect(c.nodes[1]!.coordinator.approve(s.sessionId)).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
    expect(c.net.log.length).toBe(sentBefore);
    expect(c.snapshot(1, s.sessionId)!.failure).toMatchObject({ code: 'STORAGE_FAILED' });
    expect(c.nodes[1]!.coordinator.health().storageFailures).toBe(1);
    expect(await store.get(s.sessionId)).toMatchObject({ phase: 'AWAITING_APPROVAL' });
  });
});

describe('restart mid-session', () => {
  it('never acts on the attempt it lost its nonces in; its own resume starts a fresh attempt that completes', async () => {
    const { c, s } = await cutOffMidExchange('resume-self');
    const node2 = c.nodes[2]!;
    const lastSeqBefore = Math.max(...sentFrames(c.net, { from: 'peer-2' }).map((f) => messageOf(f.frame).sequence));
    await c.restart(node2);
    expect(c.snapshot(2, s.sessionId)).toMatchObject({ phase: 'NONCE_EXCHANGE', attempt: 1, interrupted: true, resumable: true });

    // Attempt-1 traffic that reaches it now cannot make it sign: it holds no nonce for attempt 1.
    for (const f of sentFrames(c.net, { to: 'peer-2', type: 'partials' }))
      c.net.deliver(
        'peer-2',
        resign(f.frame, c.nodes[Number(f.from.slice(-1))]!.signer.secret, (m) => ({ ...m, sequence: m.sequence + 1 })),
        f.from,
      );
    await c.settle();
    expect(node2.coordinator.health().rejectedMessages).toEqual({ STALE_ATTEMPT: 2 });
    expect(sentFrames(c.net, { from: 'peer-2', type: 'partials' })).toEqual([]);

    const resumed = await node2.coordinator.resume(s.sessionId);
    expect(resumed).toMatchObject({ attempt: 2, phase: 'NONCE_EXCHANGE', interrupted: false });
    expect(await c.runUntilPhase(s.sessionId, ['COMPLETE'])).toBe(true);
    for (const i of [0, 1, 2]) expect(verified(c.snapshot(i, s.sessionId)!)).toBe(true);

    const nonces = sentFrames(c.net, { from: 'peer-2', type: 'nonces' }).map((f) => messageOf(f.frame));
    const byAttempt = (a: number) =>
      new Set(nonces.filter((m) => m.attempt === a).map((m) => (m.body.type === 'nonces' ? bytesToHex(m.body.nonces[0]!) : '')));
    expect(byAttempt(1).size).toBe(1);
    expect(byAttempt(2).size).toBe(1);
    expect([...byAttempt(2)][0]).not.toBe([...byAttempt(1)][0]);
    // Its sequence numbers went on from where they were, so its peers accepted them.
    expect(Math.min(...nonces.filter((m) => m.attempt === 2).map((m) => m.sequence))).toBeGreaterThan(lastSeqBefore);
  });

  it('joins a new attempt started by another signer without asking its user again', async () => {
    const { c, s } = await cutOffMidExchange('resume-other');
    await c.restart(c.nodes[2]!);
    const requestsBefore = c.nodes[2]!.requests.length;
    await c.nodes[0]!.coordinator.resume(s.sessionId);
    expect(await c.runUntilPhase(s.sessionId, ['COMPLETE'])).toBe(true);
    expect(c.snapshot(2, s.sessionId)!.attempt).toBe(2);
    expect(c.nodes[2]!.requests.length).toBe(requestsBefore);
    expect(c.snapshot(0, s.sessionId)!.signatures).toEqual(c.snapshot(2, s.sessionId)!.signatures);
  });

  it('resumes on real files too', async () => {
    const { paths, stores } = await fileStores(3);
    const { c, s } = await cutOffMidExchange('resume-disk', (i) => stores[i]!);
    await c.restart(c.nodes[2]!, await FileRecordStore.open(paths[2]!));
    await c.nodes[2]!.coordinator.resume(s.sessionId);
    expect(await c.runUntilPhase(s.sessionId, ['COMPLETE'])).toBe(true);
    await c.restart(c.nodes[2]!, await FileRecordStore.open(paths[2]!));
    expect(verified(c.snapshot(2, s.sessionId)!)).toBe(true);
  });

  it('limits the attempts and resumes only sessions in an exchange phase', async () => {
    const { c, s } = await cutOffMidExchange('attempts');
    const pendingOnly = await c.create(0);
    await expect(c.nodes[0]!.coordinator.resume(pendingOnly.sessionId)).rejects.toMatchObject({ code: 'WRONG_PHASE' });
    c.net.setOffline('peer-2', true);
    for (let attempt = 2; attempt <= 5; attempt++) {
      expect((await c.nodes[0]!.coordinator.resume(s.sessionId)).attempt).toBe(attempt);
    }
    expect(c.snapshot(0, s.sessionId)!.resumable).toBe(false);
    await expect(c.nodes[0]!.coordinator.resume(s.sessionId)).rejects.toMatchObject({ code: 'LIMIT_REACHED' });
    await expect(c.nodes[0]!.coordinator.resume('ab'.repeat(32))).rejects.toMatchObject({ code: 'UNKNOWN_SESSION' });
  });
});
