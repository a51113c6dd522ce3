/**
 * Applies the peer guard to live libp2p streams: refuses streams from banned peers, rate-limits
 * frames, and turns a rejected frame into a counted strike, a closed stream and, once the peer is
 * banned, a dropped connection (the connection gater then refuses it until the ban ends).
 */
import { peerIdFromString } from '@libp2p/peer-id';
import type { Stream } from '@libp2p/interface';
import type { CosignerLibp2p } from './node.ts';
import type { PeerGuard } from './peer-guard.ts';
import type { RejectReason } from './wire.ts';

export class InboundPolicy {
  readonly #libp2p: CosignerLibp2p;
  readonly #guard: PeerGuard;

  constructor(libp2p: CosignerLibp2p, guard: PeerGuard) {
    this.#libp2p = libp2p;
    this.#guard = guard;
  }

  /** False (and the stream reset) when the peer is banned. */
  admitStream(peer: string, stream: Stream): boolean {
    if (!this.#guard.isBanned(peer)) return true;
    stream.abort(new Error('peer is banned'));
    this.#hangUp(peer);
    return false;
  }

  /** Takes a rate-limit token; when none is left the frame is counted as a 'rate-limited' reject. */
  admitFrame(peer: string): boolean {
    if (this.#guard.allowFrame(peer)) return true;
    this.#strike(peer, 'rate-limited');
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
