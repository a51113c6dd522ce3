/**
 * Applies the peer guard to live libp2p streams: refuses streams from banned peers, rate-limits
 * frames, and turns a rejected frame into a counted strike, a closed stream and, once the peer is
 * banned, a dropped connection (the connection gater then refuses it until the ban ends). A known
 * co-signer going faster than the rate is slowed down (NACK, the sender retries) but gets no strike:
 * a script or `--auto-approve` signing back to back is busy, not hostile.
 */
import { peerIdFromString } from '@libp2p/peer-id';
import type { Stream } from '@libp2p/interface';
import type { CosignerLibp2p } from './node.ts';
import type { PeerGuard } from './peer-guard.ts';
import type { RejectReason } from './wire.ts';

export class InboundPolicy {
  readonly #libp2p: CosignerLibp2p;
  readonly #guard: PeerGuard;
  readonly #isCosigner: (peer: string) => boolean;

  /** `isCosigner`: whether the peer is bound (by a signer card) to a signer of one of our groups. */
  constructor(libp2p: CosignerLibp2p, guard: PeerGuard, isCosigner: (peer: string) => boolean) {
    this.#libp2p = libp2p;
    this.#guard = guard;
    this.#isCosigner = isCosigner;
  }

  /** False (and the stream reset) when the peer is banned. */
  admitStream(peer: string, stream: Stream): boolean {
    if (!this.#guard.isBanned(peer)) return true;
    stream.abort(new Error('peer is banned'));
    this.#hangUp(peer);
    return false;
  }

  /** Takes a rate-limit token; when none is left the frame is refused as 'rate-limited' (a strike
   *  only for a peer that is not a known co-signer). */
  admitFrame(peer: string): boolean {
    if (this.#guard.allowFrame(peer)) return true;
    if (this.#isCosigner(peer)) this.#guard.throttle();
    else this.#strike(peer, 'rate-limited');
    return false;
  }

  /** Counts the reject against the peer and resets the stream. */
  reject(peer: string, reason: RejectReason, stream: Stream): void {
    stream.abort(new Error(`rejected: ${reason}`));
    this.#strike(peer, reason);
  }

  #strike(peer: string, reason: RejectReason): void {
    if (this.#guard.reject(peer, reason).banned) this.#hangUp(peer);
  }

  #hangUp(peer: string): void {
    this.#libp2p.hangUp(peerIdFromString(peer)).catch(() => {
      // already gone
    });
  }
}
