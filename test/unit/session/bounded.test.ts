import { describe, expect, it } from 'vitest';
import { DEFAULT_OPTIONS, resolveOptions } from '../../../main/session/limits.ts';
import { OrphanBuffer } from '../../../main/session/orphan-buffer.ts';
import { PeerRateLimiter } from '../../../main/session/rate-limiter.ts';

describe('options', () => {
  it('has the documented defaults', () => {
    expect(resolveOptions()).toMatchObject({
      enableReplayProtection: true,
      maxSequenceGap: 100,
      enableAutoCleanup: true,
      cleanupIntervalMs: 60_000,
      stuckSessionTimeoutMs: 600_000,
      sessionTimeoutMs: 7_200_000,
      maxSigners: 16,
      autoApprove: undefined,
    });
    expect(resolveOptions({ cleanupIntervalMs: 5_000 }).cleanupIntervalMs).toBe(5_000);
  });

  it('rejects nonsense', () => {
    for (const bad of [
      { cleanupIntervalMs: 0 },
      { maxSequenceGap: -1 },
      { sessionTimeoutMs: 1.5 },
      { maxSigners: 1 },
      { maxSigners: 33 },
      { maxPendingApprovals: DEFAULT_OPTIONS.maxSessions + 1 },
      { defaultSessionTtlMs: DEFAULT_OPTIONS.sessionTimeoutMs + 1 },
    ]) {
      expect(() => resolveOptions(bad), JSON.stringify(bad)).toThrow(/option|cannot exceed/);
    }
  });
});

describe('per-peer rate limiter', () => {
  it('allows a burst, then the rate, per peer', () => {
    const r = new PeerRateLimiter({ ratePerSecond: 10, burst: 3, maxPeers: 10 });
    expect([1, 2, 3, 4].map(() => r.allow('p', 0))).toEqual([true, true, true, false]);
    expect(r.allow('q', 0)).toBe(true);
    expect(r.allow('p', 100)).toBe(true);
    expect(r.allow('p', 100)).toBe(false);
  });

  it('forgets the least recently seen peer beyond maxPeers', () => {
    const r = new PeerRateLimiter({ ratePerSecond: 1, burst: 1, maxPeers: 2 });
    r.allow('a', 0);
    r.allow('b', 0);
    r.allow('c', 0);
    expect(r.size).toBe(2);
    expect(r.allow('a', 0)).toBe(true); // forgotten, so a fresh bucket
    expect(r.allow('c', 0)).toBe(false);
  });
});

describe('orphan buffer', () => {
  const frame = (peer: string, n: number) => ({ frame: Uint8Array.of(n), fromPeer: peer });

  it('is bounded per peer and in total, oldest out first', () => {
    const b = new OrphanBuffer({ maxFrames: 3, maxPerPeer: 2, ttlMs: 1000 });
    expect(b.add('s', frame('p', 1), 0)).toBe(true);
    expect(b.add('s', frame('p', 2), 0)).toBe(true);
    expect(b.add('s', frame('p', 3), 0)).toBe(false);
    expect(b.add('t', frame('q', 4), 0)).toBe(true);
    expect(b.add('t', frame('r', 5), 0)).toBe(true);
    expect(b.size).toBe(3);
    expect(b.take('s').map((f) => f.frame[0])).toEqual([2]);
    expect(b.take('t').map((f) => f.frame[0])).toEqual([4, 5]);
    expect(b.size).toBe(0);
    expect(b.add('s', frame('p', 6), 0)).toBe(true);
  });

  it('drops frames past their TTL', () => {
    const b = new OrphanBuffer({ maxFrames: 10, maxPerPeer: 10, ttlMs: 1000 });
    b.add('s', frame('p', 1), 0);
    b.add('s', frame('p', 2), 500);
    expect(b.prune(999)).toBe(0);
    expect(b.prune(1000)).toBe(1);
    expect(b.take('s').map((f) => f.frame[0])).toEqual([2]);
  });
});
