/**
 * The session's use of the MuSig2 engine. Signer indices here are positions in the announcement's
 * list; the engine sees the keys in KeySort order (so a group has one aggregate key whatever order a
 * creator lists it in), and this module translates between the two.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { CosignerError, isCosignerError } from '../errors.ts';
import {
  aggregateKeys,
  aggregateNonces,
  generateNonce,
  sortKeys,
  SigningBatch,
  withTaprootTweak,
  type KeyAggContext,
  type SecretNonce,
} from '../musig/index.ts';
import { itemsOf } from './announcement.ts';
import type { AnnouncementBody } from './codec.ts';
import { nonceExtraIn } from './hashes.ts';

export interface SessionKeys {
  readonly ctx: KeyAggContext;
  /** ctx position of each announcement index. */
  readonly position: readonly number[];
  /** announcement index of each ctx position. */
  readonly indexAt: readonly number[];
  readonly messages: readonly Uint8Array[];
}

export function sessionKeys(body: AnnouncementBody): SessionKeys {
  const sorted = sortKeys(body.signers);
  const hexes = body.signers.map(bytesToHex);
  const indexAt = sorted.map((key) => hexes.indexOf(bytesToHex(key)));
  const position: number[] = [];
  indexAt.forEach((index, pos) => (position[index] = pos));
  const plain = aggregateKeys(sorted);
  return {
    ctx: body.tweak === 'taproot' ? withTaprootTweak(plain) : plain,
    position,
    indexAt,
    messages: itemsOf(body.payload).map((item) => item.message),
  };
}

/** The x-only key final signatures verify under (the taproot output key when tweaked). */
export function signingKeyOf(keys: SessionKeys): Uint8Array {
  return keys.ctx.xOnlyKey;
}

/** Fresh nonces for every message of one attempt, each bound to (session, attempt, message index). */
export function makeNonces(
  keys: SessionKeys,
  sessionId: Uint8Array,
  attempt: number,
  secretKey: Uint8Array,
): { publicNonces: Uint8Array[]; secretNonces: SecretNonce[] } {
  const made = keys.messages.map((message, messageIndex) =>
    generateNonce({ secretKey, ctx: keys.ctx, message, extraIn: nonceExtraIn(sessionId, attempt, messageIndex) }),
  );
  return { publicNonces: made.map((m) => m.publicNonce), secretNonces: made.map((m) => m.secretNonce) };
}

/** Whether every public nonce is two valid points; the index of the first bad message otherwise. */
export function invalidNonceIndex(publicNonces: readonly Uint8Array[]): number | undefined {
  for (const [messageIndex, nonce] of publicNonces.entries()) {
    try {
      aggregateNonces([nonce]);
    } catch (e) {
      if (isCosignerError(e, 'INVALID_PUBLIC_NONCE')) return messageIndex;
      throw e;
    }
  }
  return undefined;
}

/** The signing batch of one attempt, from every signer's public nonces (by announcement index). */
export function signingBatch(keys: SessionKeys, nonces: readonly (readonly Uint8Array[])[]): SigningBatch {
  return new SigningBatch(
    keys.ctx,
    keys.messages,
    keys.indexAt.map((index) => nonces[index] as readonly Uint8Array[]),
  );
}

export function signPartials(
  keys: SessionKeys,
  batch: SigningBatch,
  localIndex: number,
  secretKey: Uint8Array,
  secretNonces: readonly SecretNonce[],
): Uint8Array[] {
  return batch.sign(keys.position[localIndex] as number, secretKey, secretNonces);
}

/**
 * The final signatures, or the engine's error with `context.signerIndex` translated back to the
 * announcement index of the signer whose partial signature is invalid.
 */
export function aggregatePartials(
  keys: SessionKeys,
  batch: SigningBatch,
  partials: readonly (readonly Uint8Array[])[],
): Uint8Array[] {
  try {
    return batch.aggregate(keys.indexAt.map((index) => partials[index] as readonly Uint8Array[]));
  } catch (e) {
    if (e instanceof CosignerError && typeof e.context.signerIndex === 'number') {
      const signerIndex = keys.indexAt[e.context.signerIndex];
      throw new CosignerError(e.code, e.message, { ...e.context, signerIndex }, { cause: e });
    }
    throw e;
  }
}
