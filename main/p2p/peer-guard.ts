/**
 * Per-peer defence for the Cosigner protocols: a token-bucket rate limit on inbound frames, strikes
 * for rejected frames, and a temporary ban once a peer collects too many strikes in a window. A
 * frame refused only for its pace can be counted without a strike (`throttle`): that is how a known
 * co-signer is slowed down without ever being banned for being busy.
 * Pure logic over an injected clock; every per-peer map is a bounded LRU, so a flood of fresh peer
 * ids costs constant memory (an evicted peer simply starts clean, which only helps it to be banned
 * again later, never to exhaust us).
 */
import type { Clock } from '../session/ports.ts';
import { BoundedMap } from './bounded-map.ts';
import { REJECT_REASONS } from './wire.ts';
import type { RejectReason } from './wire.ts';

export interface PeerGuardConfig {
  /** Burst of frames a peer may send before the rate limit applies. */
  burst: number;
  /** Sustained frames per second. */
  ratePerSecond: number;
  /** Strikes within `strikeWindowMs` that get a peer banned. */
  strikeLimit: number;
  strikeWindowMs: number;
  banMs: number;
  maxTrackedPeers: number;
}

export const DEFAULT_PEER_GUARD_CONFIG: PeerGuardConfig = {
  burst: 50,
  ratePerSecond: 20,
  strikeLimit: 10,
  strikeWindowMs: 60_000,
  banMs: 10 * 60_000,
  maxTrackedPeers: 1024,
};

interface Bucket {
  tokens: number;
  updatedAt: number;
}

interface Strikes {
  count: number;
  windowStart: number;
  reasons: Partial<Record<RejectReason, number>>;
}

/** A ban in force: until when, and the strikes (by reason) that earned it. */
export interface Ban {
  peerId: string;
  until: number;
  reasons: Partial<Record<RejectReason, number>>;
}

export type StrikeOutcome = { banned: false } | { banned: true; until: number };

export class PeerGuard {
  readonly #clock: Clock;
  readonly #config: PeerGuardConfig;
  readonly #buckets: BoundedMap<string, Bucket>;
  readonly #strikes: BoundedMap<string, Strikes>;
  /** Peer → ban. Not an LRU: new identities must not push a ban out (see #recordBan). */
  readonly #bans = new Map<string, Omit<Ban, 'peerId'>>();
  readonly #rejects = new Map<RejectReason, number>(REJECT_REASONS.map((r) => [r, 0]));
  #bansIssued = 0;

  constructor(clock: Clock, config: Partial<PeerGuardConfig> = {}) {
    this.#clock = clock;
    this.#config = { ...DEFAULT_PEER_GUARD_CONFIG, ...config };
    this.#buckets = new BoundedMap(this.#config.maxTrackedPeers);
    this.#strikes = new BoundedMap(this.#config.maxTrackedPeers);
  }

  isBanned(peer: string): boolean {
    const ban = this.#bans.get(peer);
    if (ban === undefined) return false;
    if (this.#clock.now() < ban.until) return true;
    this.#bans.delete(peer);
    return false;
  }

  /** Takes one token for an inbound frame; false means the frame must be refused as rate-limited. */
  allowFrame(peer: string): boolean {
    const now = this.#clock.now();
    const bucket = this.#buckets.get(peer) ?? { tokens: this.#config.burst, updatedAt: now };
    const elapsed = Math.max(0, now - bucket.updatedAt) / 1000;
    bucket.tokens = Math.min(this.#config.burst, bucket.tokens + elapsed * this.#config.ratePerSecond);
    bucket.updatedAt = now;
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    this.#buckets.set(peer, bucket);
    return allowed;
  }

  /** Counts a rejected frame against the peer; the outcome says whether the peer is now banned. */
  reject(peer: string, reason: RejectReason): StrikeOutcome {
    this.#count(reason);
    const now = this.#clock.now();
    const current = this.#strikes.get(peer);
    const strikes =
      current === undefined || now - current.windowStart > this.#config.strikeWindowMs
        ? { count: 0, windowStart: now, reasons: {} }
        : current;
    strikes.count += 1;
    strikes.reasons[reason] = (strikes.reasons[reason] ?? 0) + 1;
    this.#strikes.set(peer, strikes);
    if (strikes.count < this.#config.strikeLimit) return { banned: false };
    const until = now + this.#config.banMs;
    this.#strikes.delete(peer);
    this.#buckets.delete(peer);
    if (!this.isBanned(peer)) this.#bansIssued += 1;
    this.#recordBan(peer, { until, reasons: strikes.reasons });
    return { banned: true, until };
  }

  /** Counts a frame refused for its pace only (back-pressure on a known co-signer): no strike. */
  throttle(): void {
    this.#count('rate-limited');
  }

  #count(reason: RejectReason): void {
    this.#rejects.set(reason, (this.#rejects.get(reason) ?? 0) + 1);
  }

  /**
   * At most maxTrackedPeers bans are kept. A full list makes room only by dropping expired bans,
   * never a running one: with an LRU, enough fresh identities getting banned would lift the ban of
   * the peer that earned it. A ban that does not fit is not remembered (its connection is still hung
   * up now, and its next strikes ban it again once room frees up).
   */
  #recordBan(peer: string, ban: Omit<Ban, 'peerId'>): void {
    if (!this.#bans.has(peer) && this.#bans.size >= this.#config.maxTrackedPeers) {
      const now = this.#clock.now();
      for (const [banned, old] of this.#bans) if (old.until <= now) this.#bans.delete(banned);
      if (this.#bans.size >= this.#config.maxTrackedPeers) return;
    }
    this.#bans.set(peer, ban);
  }

  rejectCounts(): Record<RejectReason, number> {
    return Object.fromEntries(this.#rejects) as Record<RejectReason, number>;
  }

  bannedPeers(): Ban[] {
    const now = this.#clock.now();
    return [...this.#bans.entries()]
      .filter(([, ban]) => ban.until > now)
      .map(([peerId, ban]) => ({ peerId, until: ban.until, reasons: { ...ban.reasons } }));
  }

  get bansIssued(): number {
    return this.#bansIssued;
  }
}
