import { describe, expect, it } from 'vitest';
import { DEFAULT_PEER_GUARD_CONFIG, PeerGuard } from '../../../main/p2p/peer-guard.ts';
import { DEFAULT_OPTIONS } from '../../../main/session/limits.ts';
import { FakeTime } from '../../support/fake-time.ts';

describe('peer guard', () => {
  it('allows a burst, then refills at the sustained rate', async () => {
    const time = new FakeTime();
    const guard = new PeerGuard(time, { burst: 5, ratePerSecond: 2 });
    for (let i = 0; i < 5; i++) expect(guard.allowFrame('p')).toBe(true);
    expect(guard.allowFrame('p')).toBe(false);
    expect(guard.allowFrame('q')).toBe(true); // per peer
    await time.advance(1000);
    expect(guard.allowFrame('p')).toBe(true);
    expect(guard.allowFrame('p')).toBe(true);
    expect(guard.allowFrame('p')).toBe(false);
  });

  it('bans after the strike limit within the window, for the ban duration only', async () => {
    const time = new FakeTime();
    const guard = new PeerGuard(time, { strikeLimit: 3, strikeWindowMs: 10_000, banMs: 60_000 });
    expect(guard.reject('p', 'malformed').banned).toBe(false);
    expect(guard.reject('p', 'oversized').banned).toBe(false);
    const outcome = guard.reject('p', 'unknown-type');
    expect(outcome).toEqual({ banned: true, until: time.now() + 60_000 });
    expect(guard.isBanned('p')).toBe(true);
    expect(guard.isBanned('q')).toBe(false);
    expect(guard.rejectCounts()).toMatchObject({ malformed: 1, oversized: 1, 'unknown-type': 1, timeout: 0 });
    expect(guard.bannedPeers()).toEqual([
      { peerId: 'p', until: time.now() + 60_000, reasons: { malformed: 1, oversized: 1, 'unknown-type': 1 } },
    ]);
    await time.advance(60_000);
    expect(guard.isBanned('p')).toBe(false);
    expect(guard.bansIssued).toBe(1);
  });

  it('counts a throttled frame (back-pressure on a known co-signer) without a strike', () => {
    const time = new FakeTime();
    const guard = new PeerGuard(time, { strikeLimit: 2 });
    for (let i = 0; i < 10; i++) guard.throttle();
    expect(guard.rejectCounts()['rate-limited']).toBe(10);
    expect(guard.reject('p', 'malformed').banned).toBe(false);
    expect(guard.bannedPeers()).toEqual([]);
  });

  it("is tighter than the coordinator's own per-peer limit, so a frame is NACKed (and retried) before the coordinator would drop it after its ack", () => {
    expect(DEFAULT_PEER_GUARD_CONFIG.burst).toBeLessThanOrEqual(DEFAULT_OPTIONS.rateBurst);
    expect(DEFAULT_PEER_GUARD_CONFIG.ratePerSecond).toBeLessThanOrEqual(DEFAULT_OPTIONS.ratePerPeerPerSecond);
  });

  it('forgets strikes outside the window', async () => {
    const time = new FakeTime();
    const guard = new PeerGuard(time, { strikeLimit: 2, strikeWindowMs: 1000 });
    guard.reject('p', 'malformed');
    await time.advance(1001);
    expect(guard.reject('p', 'malformed').banned).toBe(false);
  });

  it('tracks a bounded number of peers', () => {
    const time = new FakeTime();
    const guard = new PeerGuard(time, { maxTrackedPeers: 10, strikeLimit: 1, banMs: 1000 });
    for (let i = 0; i < 1000; i++) guard.reject(`peer-${i}`, 'malformed');
    expect(guard.bannedPeers().length).toBe(10);
  });

  it('directory eviction by sybils: 2 000 new identities, each struck out, do not lift an existing ban', async () => {
    const time = new FakeTime();
    const guard = new PeerGuard(time);
    const { strikeLimit, maxTrackedPeers, banMs } = DEFAULT_PEER_GUARD_CONFIG;
    for (let i = 0; i < strikeLimit; i++) guard.reject('mallory', 'malformed');
    expect(guard.isBanned('mallory')).toBe(true);
    for (let n = 0; n < 2000; n++) for (let i = 0; i < strikeLimit; i++) guard.reject(`sybil-${n}`, 'malformed');
    expect(guard.isBanned('mallory')).toBe(true);
    // The list stays bounded; once bans expire, new ones take their place.
    expect(guard.bannedPeers().length).toBeLessThanOrEqual(maxTrackedPeers);
    await time.advance(banMs);
    for (let i = 0; i < strikeLimit; i++) guard.reject('late', 'malformed');
    expect(guard.isBanned('late')).toBe(true);
    expect(guard.isBanned('mallory')).toBe(false);
  });
});
