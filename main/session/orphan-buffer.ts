import type { InboundFrame } from './ports.ts';

/**
 * Session messages that arrive before their announcement (transports do not preserve order across
 * streams) wait here, unverified, until the announcement is accepted. Bounded in total, per peer
 * (peers are authenticated by the transport, so one peer cannot crowd out the others) and in time.
 */
export interface OrphanOptions {
  maxFrames: number;
  maxPerPeer: number;
  ttlMs: number;
}

interface Orphan {
  sessionId: string;
  inbound: InboundFrame;
  at: number;
}

export class OrphanBuffer {
  readonly #options: OrphanOptions;
  #orphans: Orphan[] = [];
  readonly #perPeer = new Map<string, number>();

  constructor(options: OrphanOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#orphans.length;
  }

  /** False when the sending peer already has its share waiting; the oldest frame goes when full. */
  add(sessionId: string, inbound: InboundFrame, now: number): boolean {
    if ((this.#perPeer.get(inbound.fromPeer) ?? 0) >= this.#options.maxPerPeer) return false;
    if (this.#orphans.length >= this.#options.maxFrames) this.#remove(0);
    this.#orphans.push({ sessionId, inbound, at: now });
    this.#perPeer.set(inbound.fromPeer, (this.#perPeer.get(inbound.fromPeer) ?? 0) + 1);
    return true;
  }

  /** Removes and returns the frames waiting for `sessionId`, oldest first. */
  take(sessionId: string): InboundFrame[] {
    const taken = this.#orphans.filter((o) => o.sessionId === sessionId);
    for (const o of taken) this.#decrement(o.inbound.fromPeer);
    this.#orphans = this.#orphans.filter((o) => o.sessionId !== sessionId);
    return taken.map((o) => o.inbound);
  }

  /** Drops frames older than the TTL; returns how many. */
  prune(now: number): number {
    const before = this.#orphans.length;
    const expired = this.#orphans.filter((o) => now - o.at >= this.#options.ttlMs);
    for (const o of expired) this.#decrement(o.inbound.fromPeer);
    this.#orphans = this.#orphans.filter((o) => now - o.at < this.#options.ttlMs);
    return before - this.#orphans.length;
  }

  clear(): void {
    this.#orphans = [];
    this.#perPeer.clear();
  }

  #remove(index: number): void {
    const [removed] = this.#orphans.splice(index, 1);
    if (removed) this.#decrement(removed.inbound.fromPeer);
  }

  #decrement(peer: string): void {
    const count = (this.#perPeer.get(peer) ?? 1) - 1;
    if (count <= 0) this.#perPeer.delete(peer);
    else this.#perPeer.set(peer, count);
  }
}
