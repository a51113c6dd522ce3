/**
 * The original design's cleanup plan: configuration, expired and stuck sessions, manual cleanup, late
 * creation; and the bounds on every map and queue. All time is fake, driven through the scheduler port.
 */
import { describe, expect, it } from 'vitest';
import { decodeFrame } from '../../../main/session/codec.ts';
import { Cluster } from '../../support/session-cluster.ts';

const MIN = 60_000;

describe('cleanup configuration', () => {
  it('runs a sweep every cleanupInterval by default, and the timer is the only one it holds', async () => {
    const c = new Cluster(1, { seed: 'timer' });
    const before = c.time.pendingTimers;
    await c.start();
    expect(c.time.pendingTimers).toBe(before + 1);
    const t0 = c.time.now();
    await c.time.advance(MIN - 1, () => c.settle());
    expect(c.nodes[0]!.coordinator.health().lastCleanupAt).toBe(t0);
    await c.time.advance(1, () => c.settle());
    expect(c.nodes[0]!.coordinator.health().lastCleanupAt).toBe(t0 + MIN);
  });

  it('honours a custom interval', async () => {
    const c = new Cluster(1, { seed: 'interval', options: { cleanupIntervalMs: 5_000 } });
    await c.start();
    const t0 = c.time.now();
    await c.time.advance(12_000, () => c.settle());
    expect(c.nodes[0]!.coordinator.health().lastCleanupAt).toBe(t0 + 10_000);
  });

  it('holds no timer when auto cleanup is disabled; sessions then end only on a manual sweep', async () => {
    const c = new Cluster(2, { seed: 'manual', options: { enableAutoCleanup: false } });
    const before = c.time.pendingTimers;
    await c.start();
    expect(c.time.pendingTimers).toBe(before);
    const s = await c.create(0, { expiresInMs: 10 * MIN });
    await c.runUntil(() => false, 20 * MIN);
    expect(c.snapshot(0, s.sessionId)!.phase).toBe('AWAITING_APPROVAL');
    const report = await c.nodes[0]!.coordinator.sweep();
    expect(report).toMatchObject({ expired: 1, stuck: 0 });
    expect(c.snapshot(0, s.sessionId)!.phase).toBe('EXPIRED');
    // An action on it finds it expired as well.
    await expect(c.nodes[1]!.coordinator.approve(s.sessionId)).rejects.toMatchObject({ code: 'EXPIRED' });
  });
});

describe('expired and stuck sessions', () => {
  it('expires a pending approval at its expiry (within one interval), naming who had not approved', async () => {
    const c = new Cluster(3, { seed: 'expire' });
    await c.start();
    const s = await c.create(0, { expiresInMs: 30 * MIN });
    await c.runUntil(() => c.nodes[1]!.requests.length === 1);
    await c.nodes[1]!.coordinator.approve(s.sessionId);
    await c.runUntil(() => false, 30 * MIN - 2 * MIN);
    expect(c.snapshot(2, s.sessionId)!.phase).toBe('AWAITING_APPROVAL');
    expect(await c.runUntilPhase(s.sessionId, ['EXPIRED'], 3 * MIN)).toBe(true);
    expect(c.time.now() - s.expiresAt).toBeLessThanOrEqual(MIN);
    expect(c.snapshot(0, s.sessionId)!.failure).toMatchObject({ code: 'EXPIRED', blame: [2] });
    expect(c.nodes[2]!.coordinator.health().pendingApprovals).toBe(0);
  });

  it('aborts a session stuck in an exchange phase after stuckSessionTimeout, blaming who went silent', async () => {
    const c = new Cluster(3, { seed: 'stuck' });
    await c.start();
    const s = await c.create(0);
    await c.runUntil(() => c.nodes.slice(1).every((n) => n.requests.length === 1));
    await c.nodes[1]!.coordinator.approve(s.sessionId);
    // Node 2's approval arrives, then nothing more from it (nor its nonces inside a later message).
    c.net.tamper = (sent) => (sent.from === 'peer-2' && decodeFrame(sent.frame).type !== 'approve' ? undefined : sent.frame);
    await c.nodes[2]!.coordinator.approve(s.sessionId);
    await c.runUntil(() => c.snapshot(0, s.sessionId)!.phase === 'NONCE_EXCHANGE');
    const entered = c.time.now();
    expect(await c.runUntil(() => c.snapshot(0, s.sessionId)!.phase === 'ABORTED', 20 * MIN)).toBe(true);
    expect(c.time.now() - entered).toBeGreaterThanOrEqual(10 * MIN);
    expect(c.time.now() - entered).toBeLessThanOrEqual(11 * MIN);
    expect(c.snapshot(0, s.sessionId)!.failure).toMatchObject({ code: 'SESSION_STUCK', blame: [2], reportedBy: 0 });
    // Node 1 hears the abort or times out itself; either way it ends.
    expect(await c.runUntil(() => c.snapshot(1, s.sessionId)!.phase === 'ABORTED', MIN)).toBe(true);
  });

  it('honours custom stuck and session timeouts; the local session timeout caps a longer announced expiry', async () => {
    const c = new Cluster(2, {
      seed: 'timeouts',
      nodeOptions: (i) => (i === 1 ? { sessionTimeoutMs: 20 * MIN, defaultSessionTtlMs: 20 * MIN } : {}),
      options: { stuckSessionTimeoutMs: 2 * MIN, cleanupIntervalMs: 10_000 },
    });
    await c.start();
    const long = await c.create(0, { expiresInMs: 60 * MIN });
    await c.runUntil(() => c.nodes[1]!.requests.length === 1);
    expect(c.snapshot(1, long.sessionId)!.phase).toBe('AWAITING_APPROVAL');
    const expired = () => c.nodes[1]!.events.some((e) => e.sessionId === long.sessionId && e.phase === 'EXPIRED');
    expect(await c.runUntil(expired, 21 * MIN)).toBe(true);
    expect(c.time.now() - long.createdAt).toBeLessThanOrEqual(20 * MIN + 10_000);
    expect(c.snapshot(0, long.sessionId)!.phase).toBe('AWAITING_APPROVAL');
    // Past its session timeout, the ended session has left node 1's memory, not its store.
    expect(c.snapshot(1, long.sessionId)).toBeUndefined();
    expect(await c.nodes[1]!.coordinator.get(long.sessionId)).toMatchObject({ phase: 'EXPIRED' });

    const stuck = await c.create(0);
    await c.runUntil(() => c.nodes[1]!.requests.length === 2);
    c.net.setOffline('peer-1', true);
    await c.nodes[1]!.coordinator.approve(stuck.sessionId);
    const t = c.time.now();
    expect(await c.runUntil(() => c.snapshot(1, stuck.sessionId)!.phase === 'ABORTED', 5 * MIN)).toBe(true);
    expect(c.time.now() - t).toBeLessThanOrEqual(2 * MIN + 10_000);
  });
});

describe('manual cleanup and late creation', () => {
  it('cleanup() stops the timer, closes every session, keeps the records; start() brings them back', async () => {
    const c = new Cluster(2, { seed: 'close' });
    await c.start();
    const s = await c.create(0);
    await c.runUntil(() => c.nodes[1]!.requests.length === 1);
    const node = c.nodes[0]!;
    const timers = c.time.pendingTimers;
    await node.coordinator.cleanup();
    await node.coordinator.cleanup();
    // The periodic sweep and the timer armed at the open session's deadline.
    expect(c.time.pendingTimers).toBe(timers - 2);
    expect(node.coordinator.list()).toEqual([]);
    expect(node.coordinator.health()).toMatchObject({ running: false, orphanedFrames: 0 });
    await expect(node.coordinator.approve(s.sessionId)).rejects.toMatchObject({ code: 'NOT_RUNNING' });
    await expect(c.create(0)).rejects.toMatchObject({ code: 'NOT_RUNNING' });
    // Frames arriving while stopped are ignored.
    await c.nodes[1]!.coordinator.approve(s.sessionId);
    await c.settle();
    expect(await node.store.get(s.sessionId)).toMatchObject({ phase: 'AWAITING_APPROVAL' });
    await node.coordinator.start();
    expect(node.coordinator.list().map((x) => x.sessionId)).toEqual([s.sessionId]);
  });

  it('a pending request expires at its expiry, not at the next periodic sweep', async () => {
    const c = new Cluster(2, { seed: 'on-time' });
    await c.start();
    const s = await c.create(0, { expiresInMs: 90_000 });
    await c.runUntil(() => c.nodes[1]!.requests.length === 1);
    await c.time.advance(89_000, () => c.settle());
    expect(c.snapshot(1, s.sessionId)!.phase).toBe('AWAITING_APPROVAL');
    await c.time.advance(2_000, () => c.settle()); // 91 s: the next periodic sweep would be at 120 s
    expect(c.snapshot(0, s.sessionId)!.phase).toBe('EXPIRED');
    expect(c.snapshot(1, s.sessionId)!.phase).toBe('EXPIRED');
  });

  it('a session created late in a cleanup cycle lives its full time', async () => {
    const c = new Cluster(2, { seed: 'late' });
    await c.start();
    await c.time.advance(MIN - 1_000, () => c.settle());
    const s = await c.create(0, { expiresInMs: 5 * MIN });
    await c.time.advance(2_000, () => c.settle()); // a sweep runs here
    expect(c.snapshot(0, s.sessionId)!.phase).toBe('AWAITING_APPROVAL');
    await c.time.advance(4 * MIN, () => c.settle());
    expect(c.snapshot(0, s.sessionId)!.phase).toBe('AWAITING_APPROVAL');
    expect(await c.runUntil(() => c.snapshot(0, s.sessionId)!.phase === 'EXPIRED', 2 * MIN)).toBe(true);
  });

  it('finished sessions leave memory after sessionTimeout but stay in history', async () => {
    const c = new Cluster(2, { seed: 'evict', options: { sessionTimeoutMs: 30 * MIN, defaultSessionTtlMs: 10 * MIN } });
    await c.start();
    const s = await c.create(0);
    await c.runUntil(() => c.nodes[1]!.requests.length === 1);
    await c.nodes[1]!.coordinator.approve(s.sessionId);
    await c.runUntilPhase(s.sessionId, ['COMPLETE']);
    const done = c.snapshot(1, s.sessionId)!;
    await c.runUntil(() => false, 31 * MIN);
    expect(c.nodes[1]!.coordinator.list()).toEqual([]);
    expect(await c.nodes[1]!.coordinator.get(s.sessionId)).toMatchObject({ phase: 'COMPLETE', signatures: done.signatures });
    expect((await c.nodes[1]!.coordinator.history()).sessions.map((x) => x.sessionId)).toEqual([s.sessionId]);
  });
});

describe('bounds', () => {
  it('caps requests awaiting approval, per creator and in total, and counts what it refused', async () => {
    const c = new Cluster(3, { seed: 'caps', nodeOptions: (i) => (i === 2 ? { maxPendingApprovals: 3, maxPendingPerCreator: 2 } : {}) });
    await c.start();
    for (let i = 0; i < 3; i++) await c.create(0, { description: `from 0 #${i}` });
    await c.runUntil(() => false, 1000);
    expect(c.nodes[2]!.requests).toHaveLength(2);
    for (let i = 0; i < 2; i++) await c.create(1, { description: `from 1 #${i}` });
    await c.runUntil(() => false, 1000);
    expect(c.nodes[2]!.requests).toHaveLength(3);
    expect(c.nodes[2]!.coordinator.health().rejectedMessages).toEqual({ LIMIT_REACHED: 2 });
    // Deciding one frees a place.
    await c.nodes[2]!.coordinator.decline(c.nodes[2]!.requests[0]!.sessionId);
    await c.create(1, { description: 'from 1 again' });
    await c.runUntil(() => false, 1000);
    expect(c.nodes[2]!.requests).toHaveLength(4);
  });

  it('caps sessions in memory: finished ones make room, open ones do not', async () => {
    const c = new Cluster(2, { seed: 'max', nodeOptions: (i) => (i === 0 ? { maxSessions: 2, maxPendingApprovals: 2 } : {}) });
    await c.start();
    const first = await c.create(0);
    await c.create(0);
    await expect(c.create(0)).rejects.toMatchObject({ code: 'LIMIT_REACHED' });
    await c.nodes[0]!.coordinator.abort(first.sessionId);
    await c.create(0);
    expect(c.nodes[0]!.coordinator.list()).toHaveLength(2);
    expect((await c.nodes[0]!.coordinator.history()).sessions.length).toBe(3);
  });

  it('rate-limits a flooding peer and bounds frames held for unknown sessions', async () => {
    const c = new Cluster(2, { seed: 'flood', options: { rateBurst: 20, ratePerPeerPerSecond: 1, maxOrphansPerPeer: 5 } });
    await c.start();
    const s = await c.create(0);
    await c.runUntil(() => c.nodes[1]!.requests.length === 1);
    const genuine = c.net.log.find((f) => f.to === 'peer-1')!.frame;
    await c.time.advance(20_000, () => c.settle()); // the bucket is full again: 20 frames pass
    const bogusSession = Uint8Array.of(
      1,
      0x10,
      ...new Uint8Array(32).fill(1),
      0,
      0,
      0,
      0,
      1,
      0,
      0,
      0,
      1,
      ...new Uint8Array(8),
      ...new Uint8Array(64),
    );
    for (let i = 0; i < 100; i++) c.net.deliver('peer-1', i % 2 ? genuine : bogusSession, 'peer-0');
    await c.settle();
    const h = c.nodes[1]!.coordinator.health();
    expect(h.rejectedMessages.RATE_LIMITED).toBe(80);
    expect(h.orphanedFrames).toBe(5);
    expect(h.rejectedMessages.UNKNOWN_SESSION).toBe(5);
    expect(h.rejectedMessages.REPLAYED).toBe(10);
    expect(c.snapshot(1, s.sessionId)!.phase).toBe('AWAITING_APPROVAL');
    // Held frames go after their TTL.
    await c.time.advance(3 * MIN, () => c.settle());
    expect(c.nodes[1]!.coordinator.health().orphanedFrames).toBe(0);
  });

  it('caps listeners', () => {
    const c = new Cluster(1, { seed: 'listeners' });
    const co = c.nodes[0]!.coordinator;
    // The cluster holds one listener already.
    for (let i = 0; i < 63; i++) co.on('session', () => undefined);
    expect(() => co.on('session', () => undefined)).toThrow(/too many listeners/);
  });
});
