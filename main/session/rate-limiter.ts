/** Per-peer token buckets on inbound frames, in a map bounded to `maxPeers` (least recently seen go first). */
export interface RateLimitOptions {
  ratePerSecond: number;
  burst: number;
  maxPeers: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class PeerRateLimiter {
  readonly #options: RateLimitOptions;
  readonly #buckets = new Map<string, Bucket>();

  constructor(options: RateLimitOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#buckets.size;
  }

  /** Takes one token from `peer`'s bucket; false when it is empty. */
  allow(peer: string, now: number): boolean {
    const { ratePerSecond, burst, maxPeers } = this.#options;
    const previous = this.#buckets.get(peer);
    const bucket = previous ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + (Math.max(0, now - bucket.at) * ratePerSecond) / 1000);
    bucket.at = now;
    // Re-inserting keeps the map in least-recently-seen order, so eviction takes the first key.
    this.#buckets.delete(peer);
    this.#buckets.set(peer, bucket);
    if (this.#buckets.size > maxPeers) {
      const oldest = this.#buckets.keys().next().value;
      if (oldest !== undefined) this.#buckets.delete(oldest);
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}
