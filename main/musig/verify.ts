import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { equalBytes } from '@noble/curves/utils.js';
import { hasEven } from '@scure/btc-signer/utils.js';
import type { KeyAggInternals } from './key-agg.ts';
import type { KeyVerifier } from './key-verifier.ts';
import { isBytes } from './keys.ts';
import { noncePoints, type SessionValues } from './session-values.ts';

const Point = secp256k1.Point;
const Fn = Point.Fn;

/**
 * BIP327 PartialSigVerifyInternal for the signer at `signerIndex` with its (already validated)
 * public nonce. Everything here is public, so the variable-time multiplications are safe.
 */
export function partialSigValid(
  key: KeyAggInternals,
  session: SessionValues,
  signerIndex: number,
  publicNonce: Uint8Array,
  partialSig: Uint8Array,
): boolean {
  if (!isBytes(partialSig, 32)) return false;
  const s = Fn.fromBytes(partialSig, true);
  if (!Fn.isValid(s)) return false;
  const [R1, R2] = noncePoints(publicNonce);
  const sum = R1.add(R2.multiplyUnsafe(session.b));
  const Re = hasEven(session.R.y) ? sum : sum.negate();
  const P = key.points[signerIndex] as (typeof key.points)[number];
  const a = key.coefficients[signerIndex] as bigint;
  const ead = Fn.mul(session.e, Fn.mul(a, key.signFactor));
  // s*G == Re + e*a*g*gacc*P, checked as s*G - e*a*g*gacc*P == Re with one double multiplication.
  return Point.BASE.mulAddUnsafe(s, P, Fn.neg(ead)).equals(Re);
}

interface Verified {
  readonly signature: Uint8Array;
  readonly message: Uint8Array;
  readonly key: Uint8Array;
}

/**
 * Final signatures verified in this process, each with copies of the bytes it was verified on,
 * held weakly by the signature's own array: when the same array is checked again downstream (the
 * coordinator before storing it, the PSBT finalizer before writing it), equal bytes prove the
 * earlier verification applies, and a byte comparison replaces a second verification (about 1 ms a
 * signature; 100 per signer for a 100-input PSBT). Changed bytes are verified afresh.
 */
const verified = new WeakMap<Uint8Array, Verified>();

/**
 * BIP340 verification of a final signature; malformed input is simply not a valid signature.
 * `verifier` may hold the key's table (many signatures under one key, see key-verifier.ts).
 */
export function verifySignature(signature: Uint8Array, message: Uint8Array, xOnlyKey: Uint8Array, verifier?: KeyVerifier): boolean {
  if (!isBytes(signature, 64) || !isBytes(message) || !isBytes(xOnlyKey, 32)) return false;
  const known = verified.get(signature);
  if (known && equalBytes(known.signature, signature) && equalBytes(known.message, message) && equalBytes(known.key, xOnlyKey)) return true;
  if (!(verifier ? verifier.verify(signature, message, xOnlyKey) : schnorr.verify(signature, message, xOnlyKey))) return false;
  verified.set(signature, { signature: signature.slice(), message: message.slice(), key: xOnlyKey.slice() });
  return true;
}
