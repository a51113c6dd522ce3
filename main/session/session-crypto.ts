/**
 * The session's use of the MuSig2 engine. Signer indices here are positions in the announcement's
 * list; the engine sees the keys in KeySort order (so a group has one aggregate key whatever order a
 * creator lists it in), and this module translates between the two.
 *
 * A `message` or `batch` payload signs each message's BIP322 digest under one key-aggregation context
 * (the group's taproot output key); a PSBT signs each input under its own (a BIP328-derived input has
 * its own tweaks), through the wallet's PsbtSigningBatch, which has the engine batch's interface.
 * Both are a SessionKeys.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { CosignerError } from '../errors.ts';
import {
  aggregateKeys,
  generateNonce,
  isValidPublicNonce,
  publicKeyOf,
  sortKeys,
  SigningBatch,
  withTaprootTweak,
  type KeyAggContext,
  type SecretNonce,
} from '../musig/index.ts';
import { bip322Digest } from '../wallet/bip322.ts';
import { makePsbtNonces, PsbtSigningBatch, type PsbtSigningPlan } from '../wallet/psbt-signing.ts';
import { equalKeys, itemsOf } from './announcement.ts';
import type { AnnouncementBody, Payload, PsbtPayload } from './codec.ts';
import type { ResolvedPath } from './group-path.ts';
import { nonceExtraIn } from './hashes.ts';

/** What signs the messages of one attempt: the engine's SigningBatch, or the wallet's PsbtSigningBatch. */
export type Batch = Pick<SigningBatch, 'size' | 'sign' | 'verifyPartial' | 'aggregate'>;

export interface MadeNonces {
  publicNonces: Uint8Array[];
  secretNonces: SecretNonce[];
}

export interface SessionKeys {
  /** ctx (KeySort) position of each announcement index. */
  readonly position: readonly number[];
  /** announcement index of each ctx position. */
  readonly indexAt: readonly number[];
  readonly messages: readonly Uint8Array[];
  /** Per message, the x-only key its final signature verifies under. */
  readonly verifyKeys: readonly Uint8Array[];
  /** The key a snapshot names: the output key of the address signed for. */
  readonly signingKey: Uint8Array;
  /** One fresh nonce per message; `extraIn(i)` binds the nonce of message i to its session slot. */
  makeNonces(secretKey: Uint8Array, extraIn: (messageIndex: number) => Uint8Array): MadeNonces;
  /** The batch of one attempt from every signer's public nonces, in ctx order. */
  batch(publicNonces: readonly (readonly Uint8Array[])[]): Batch;
}

function signerOrder(signers: readonly Uint8Array[]): { sorted: Uint8Array[]; position: number[]; indexAt: number[] } {
  const sorted = sortKeys(signers);
  const hexes = signers.map(bytesToHex);
  const indexAt = sorted.map((key) => hexes.indexOf(bytesToHex(key)));
  const position: number[] = [];
  indexAt.forEach((index, pos) => (position[index] = pos));
  return { sorted, position, indexAt };
}

/**
 * What a `message` or `batch` session signs: per message, the BIP322 simple-signature digest for the
 * P2TR address of `outputKey` (by the script path of the leaf `leafHash` names, if any), derived here
 * from the bytes (never the bytes themselves, which a creator could make a spend's sighash).
 */
export function messageDigests(payload: Exclude<Payload, PsbtPayload>, outputKey: Uint8Array, leafHash?: Uint8Array): Uint8Array[] {
  return itemsOf(payload).map((item) => bip322Digest(item.message, outputKey, leafHash));
}

/**
 * The keys of a `message` or `batch` session: one context signs every message. A legacy request
 * (tweak 'taproot') signs under its signers' n-of-n taproot output key; a request naming a group
 * path (tweak 'path', `path` resolved by group-path.ts) signs for the group's own address (its
 * output key, which commits to the tree) under the path's context, verified under the path's key.
 */
export function sessionKeys(body: AnnouncementBody, path?: ResolvedPath): SessionKeys {
  if (body.payload.kind === 'psbt') throw new CosignerError('INTERNAL', 'a PSBT session takes its keys from its signing plan');
  const { sorted, position, indexAt } = signerOrder(body.signers);
  let ctx: KeyAggContext;
  let outputKey: Uint8Array;
  let verifyKey: Uint8Array;
  let leafHash: Uint8Array | undefined;
  if (body.tweak === 'path') {
    const key = path?.key;
    // resolveGroupPath refuses a path a session cannot sign and signers other than the path's.
    if (key?.ctx === undefined || !sorted.every((k, i) => equalKeys(k, key.signers[i] as Uint8Array))) {
      throw new CosignerError('INTERNAL', "a group path session needs its path's context, for its signers");
    }
    ({ ctx } = key);
    outputKey = key.output.outputKey;
    verifyKey = key.verifyKey;
    leafHash = key.leafHash;
  } else if (body.tweak === 'taproot') {
    ctx = withTaprootTweak(aggregateKeys(sorted));
    outputKey = ctx.xOnlyKey;
    verifyKey = ctx.xOnlyKey;
  } else {
    // checkAnnouncementBody refuses any other tweak; a raw signature under the plain key must never be made.
    throw new CosignerError('INTERNAL', 'messages are signed for a taproot output');
  }
  const messages = messageDigests(body.payload, outputKey, leafHash);
  return {
    position,
    indexAt,
    messages,
    verifyKeys: messages.map(() => verifyKey),
    signingKey: outputKey,
    makeNonces(secretKey, extraIn) {
      const publicKey = publicKeyOf(secretKey);
      const made = messages.map((message, i) => generateNonce({ secretKey, publicKey, ctx, message, extraIn: extraIn(i) }));
      return { publicNonces: made.map((m) => m.publicNonce), secretNonces: made.map((m) => m.secretNonce) };
    },
    batch: (publicNonces) => new SigningBatch(ctx, messages, publicNonces),
  };
}

/**
 * The keys of a PSBT session: the plan's inputs, each with its own signing context. The plan's
 * participants are the group's keys in KeySort order, which must be the announcement's signers.
 */
export function psbtSessionKeys(body: AnnouncementBody, plan: PsbtSigningPlan, signingKey: Uint8Array): SessionKeys {
  const { sorted, position, indexAt } = signerOrder(body.signers);
  if (sorted.length !== plan.participants.length || !sorted.every((key, i) => equalKeys(key, plan.participants[i] as Uint8Array))) {
    throw new CosignerError('INTERNAL', "the signing plan is not the announcement's signer set");
  }
  // Every input of a planned PSBT is signed, so an input's position is its PSBT index.
  const positionOf = new Map(plan.inputs.map((input, i) => [input.index, i]));
  return {
    position,
    indexAt,
    messages: plan.messages,
    verifyKeys: plan.inputs.map((input) => input.verifyKey),
    signingKey,
    makeNonces: (secretKey, extraIn) => makePsbtNonces(plan, secretKey, (inputIndex) => extraIn(positionOf.get(inputIndex) as number)),
    batch: (publicNonces) => new PsbtSigningBatch(plan.inputs, publicNonces),
  };
}

/** Fresh nonces for every message of one attempt, each bound to (session, attempt, message index). */
export function makeNonces(keys: SessionKeys, sessionId: Uint8Array, attempt: number, secretKey: Uint8Array): MadeNonces {
  return keys.makeNonces(secretKey, (messageIndex) => nonceExtraIn(sessionId, attempt, messageIndex));
}

/** Whether every public nonce is two valid points; the index of the first bad message otherwise. */
export function invalidNonceIndex(publicNonces: readonly Uint8Array[]): number | undefined {
  const bad = publicNonces.findIndex((nonce) => !isValidPublicNonce(nonce));
  return bad < 0 ? undefined : bad;
}

/** The signing batch of one attempt, from every signer's public nonces (by announcement index). */
export function signingBatch(keys: SessionKeys, nonces: readonly (readonly Uint8Array[])[]): Batch {
  return keys.batch(keys.indexAt.map((index) => nonces[index] as readonly Uint8Array[]));
}

export function signPartials(
  keys: SessionKeys,
  batch: Batch,
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
export function aggregatePartials(keys: SessionKeys, batch: Batch, partials: readonly (readonly Uint8Array[])[]): Uint8Array[] {
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
