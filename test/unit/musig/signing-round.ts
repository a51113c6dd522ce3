/**
 * A whole MuSig2 round run in-process through the engine's public API, for the property and
 * nonce tests: every signer generates its nonces, signs its slot of the batch, and partials are
 * returned [signerIndex][messageIndex] for the test to aggregate (or tamper with first).
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { numberToBytesBE } from '@noble/curves/utils.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { generateNonce, SigningBatch, type KeyAggContext, type SecretNonce } from '../../../main/musig/index.ts';

const N = secp256k1.Point.Fn.ORDER;

/** A valid secret key from any seed (fast-check may shrink seeds to zeros). */
export function secretKeyFromSeed(seed: bigint): Uint8Array {
  return numberToBytesBE((((seed % (N - 1n)) + (N - 1n)) % (N - 1n)) + 1n, 32);
}

export type Round = {
  batch: SigningBatch;
  publicNonces: Uint8Array[][];
  secretNonces: SecretNonce[][];
  partials: Uint8Array[][];
};

/** secretKeys[i] is the key at position i of ctx.publicKeys. `seed` makes the nonces reproducible. */
export function prepareRound(
  ctx: KeyAggContext,
  secretKeys: readonly Uint8Array[],
  messages: readonly Uint8Array[],
  seed: Uint8Array,
): Omit<Round, 'partials'> {
  const generated = secretKeys.map((secretKey, i) =>
    messages.map((message, m) => generateNonce({ secretKey, ctx, message, rand: sha256(new Uint8Array([...seed, i, m])) })),
  );
  const publicNonces = generated.map((list) => list.map((n) => n.publicNonce));
  const secretNonces = generated.map((list) => list.map((n) => n.secretNonce));
  return { batch: new SigningBatch(ctx, messages, publicNonces), publicNonces, secretNonces };
}

export function runRound(ctx: KeyAggContext, secretKeys: readonly Uint8Array[], messages: readonly Uint8Array[], seed: Uint8Array): Round {
  const round = prepareRound(ctx, secretKeys, messages, seed);
  const partials = secretKeys.map((secretKey, i) => round.batch.sign(i, secretKey, round.secretNonces[i] as SecretNonce[]));
  return { ...round, partials };
}
