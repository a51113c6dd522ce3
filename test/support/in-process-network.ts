/**
 * An in-process network implementing the SessionTransport port for N coordinators, with seeded faults:
 * every frame is delivered after a random delay (so frames overtake each other: reordering), and may be
 * dropped or duplicated. Delivery runs through the fake scheduler: no sleeps, reproducible per seed.
 * Tests can also inject frames as any peer, rewrite frames in flight, and read what was sent.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { CosignerError } from '../../main/errors.ts';
import type { InboundFrame, InboundHandler, OutboundMeta, Random, Scheduler, SessionTransport } from '../../main/session/ports.ts';

export interface Faults {
  /** Probability a frame is lost. */
  drop: number;
  /** Probability a frame is delivered twice (each copy with its own delay). */
  duplicate: number;
  minDelayMs: number;
  maxDelayMs: number;
}

export const NO_FAULTS: Faults = { drop: 0, duplicate: 0, minDelayMs: 1, maxDelayMs: 1 };

export interface SentFrame {
  from: string;
  to: string;
  frame: Uint8Array;
  meta: OutboundMeta;
}

/** Rewrites (or drops, by returning undefined) a frame in flight. */
export type Tamper = (sent: SentFrame) => Uint8Array | undefined;

const MAX_LOG = 100_000;

export class InProcessNetwork {
  readonly #scheduler: Scheduler;
  readonly #random: Random;
  faults: Faults;
  tamper: Tamper | undefined;
  /** signer key hex → peer id: what a verified signer card would say. Tests may rewire it. */
  readonly directory = new Map<string, string>();
  readonly #handlers = new Map<string, Set<InboundHandler>>();
  readonly #offline = new Set<string>();
  readonly log: SentFrame[] = [];
  delivered = 0;
  dropped = 0;

  constructor(scheduler: Scheduler, random: Random, faults: Faults = NO_FAULTS) {
    this.#scheduler = scheduler;
    this.#random = random;
    this.faults = faults;
  }

  /** A transport for `peerId`, bound to `signerKey` in the directory. */
  join(peerId: string, signerKey: Uint8Array): InProcessTransport {
    this.directory.set(bytesToHex(signerKey), peerId);
    if (!this.#handlers.has(peerId)) this.#handlers.set(peerId, new Set());
    this.#offline.delete(peerId);
    return new InProcessTransport(this, peerId);
  }

  /** Frames to and from this peer are lost until it comes back. */
  setOffline(peerId: string, offline: boolean): void {
    if (offline) this.#offline.add(peerId);
    else this.#offline.delete(peerId);
  }

  subscribe(peerId: string, handler: InboundHandler): () => void {
    let set = this.#handlers.get(peerId);
    if (!set) this.#handlers.set(peerId, (set = new Set()));
    set.add(handler);
    return () => set.delete(handler);
  }

  peerOf(signer: Uint8Array): string | undefined {
    return this.directory.get(bytesToHex(signer));
  }

  /** Forgets every subscriber of `peerId` (its process died). */
  detach(peerId: string): void {
    this.#handlers.get(peerId)?.clear();
  }

  send(from: string, toSigner: Uint8Array, frame: Uint8Array, meta: OutboundMeta): Promise<void> {
    const to = this.peerOf(toSigner);
    if (to === undefined) return Promise.reject(new CosignerError('PEER_UNREACHABLE', 'no such signer on the network'));
    const sent: SentFrame = { from, to, frame: frame.slice(), meta };
    if (this.log.length < MAX_LOG) this.log.push(sent);
    if (this.#offline.has(from) || this.#offline.has(to) || this.#chance(this.faults.drop)) {
      this.dropped += 1;
      return Promise.resolve();
    }
    const copies = this.#chance(this.faults.duplicate) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      this.#scheduler.setTimeout(() => {
        if (this.#offline.has(to)) return;
        const out = this.tamper ? this.tamper(sent) : sent.frame;
        if (out !== undefined) this.deliver(to, out, from);
      }, this.#delay());
    }
    return Promise.resolve();
  }

  /** Hands `frame` to `to` now, as if the transport had authenticated `fromPeer`. */
  deliver(to: string, frame: Uint8Array, fromPeer: string): void {
    this.delivered += 1;
    // This network has no ACK and never resends, so a verdict has no use here; the coordinator's
    // handler answers every frame with one and never rejects.
    for (const handler of this.#handlers.get(to) ?? []) void handler({ frame: frame.slice(), fromPeer });
  }

  #chance(p: number): boolean {
    return p > 0 && this.#uniform() < p;
  }

  #delay(): number {
    const { minDelayMs, maxDelayMs } = this.faults;
    return minDelayMs + Math.floor(this.#uniform() * (maxDelayMs - minDelayMs + 1));
  }

  #uniform(): number {
    const b = this.#random.bytes(4);
    return (b[0] as number) / 2 ** 8 + (b[1] as number) / 2 ** 16 + (b[2] as number) / 2 ** 24 + (b[3] as number) / 2 ** 32;
  }
}

export class InProcessTransport implements SessionTransport {
  readonly localPeerId: string;
  readonly #network: InProcessNetwork;

  constructor(network: InProcessNetwork, peerId: string) {
    this.#network = network;
    this.localPeerId = peerId;
  }

  send(toSigner: Uint8Array, frame: Uint8Array, meta: OutboundMeta): Promise<void> {
    return this.#network.send(this.localPeerId, toSigner, frame, meta);
  }

  subscribe(handler: InboundHandler): () => void {
    return this.#network.subscribe(this.localPeerId, handler);
  }

  peerOf(signer: Uint8Array): string | undefined {
    return this.#network.peerOf(signer);
  }
}
