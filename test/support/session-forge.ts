/** Tools for the hostile tests: read frames off the in-process network, change them, re-sign them. */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { decodeFrame, type MessageType, type SessionMessage } from '../../main/session/codec.ts';
import { signMessage } from '../../main/session/messages.ts';
import type { InProcessNetwork, SentFrame } from './in-process-network.ts';

export function messageOf(frame: Uint8Array): SessionMessage {
  const d = decodeFrame(frame);
  if (d.type === 'announcement') throw new Error('an announcement, not a session message');
  return d.message;
}

export function typeOf(frame: Uint8Array): string {
  return decodeFrame(frame).type;
}

export function sentFrames(
  net: InProcessNetwork,
  filter: { from?: string; to?: string; type?: MessageType | 'announcement' },
): SentFrame[] {
  return net.log.filter(
    (f) =>
      (filter.from === undefined || f.from === filter.from) &&
      (filter.to === undefined || f.to === filter.to) &&
      (filter.type === undefined || typeOf(f.frame) === filter.type),
  );
}

/** The message of `frame`, changed by `patch`, signed again with `secretKey`. */
export function resign(frame: Uint8Array, secretKey: Uint8Array, patch: (m: SessionMessage) => SessionMessage = (m) => m): Uint8Array {
  return signMessage(patch(messageOf(frame)), secretKey, new Uint8Array(32).fill(0x5a));
}

/** A well-formed public nonce (two valid points) nobody holds the secret of. */
export function strayNonce(seed: number): Uint8Array {
  const point = (k: number) => secp256k1.Point.BASE.multiply(BigInt(k)).toBytes(true);
  return Uint8Array.of(...point(1000 + seed), ...point(2000 + seed));
}
