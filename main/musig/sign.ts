import { secp256k1 } from '@noble/curves/secp256k1.js';
import { equalBytes } from '@noble/curves/utils.js';
import { hasEven } from '@scure/btc-signer/utils.js';
import { CosignerError } from '../errors.ts';
import type { KeyAggInternals } from './key-agg.ts';
import type { SessionValues } from './session-values.ts';

const Fn = secp256k1.Point.Fn;

/**
 * BIP327 Sign for the signer at `signerIndex`, from the shared key and session values: scalar work
 * only. It skips the optional self-verification (the library's fastSign path): every final signature
 * is verified on aggregation, and a nonce is never used twice, so a faulty partial cannot leak the key.
 * `secnonce` (k1 || k2 || pk) must already be taken from its handle; the caller zeroizes it.
 */
export function partialSign(
  key: KeyAggInternals,
  session: SessionValues,
  signerIndex: number,
  secretScalar: bigint,
  secnonce: Uint8Array,
): Uint8Array {
  const k1 = Fn.fromBytes(secnonce.subarray(0, 32), true);
  const k2 = Fn.fromBytes(secnonce.subarray(32, 64), true);
  // A zeroed secnonce is what a used one looks like after BIP327 Sign.
  if (!Fn.isValidNot0(k1) || !Fn.isValidNot0(k2)) {
    throw new CosignerError('NONCE_REUSED', 'secret nonce values are out of range (already used?)');
  }
  if (!equalBytes(secnonce.subarray(64, 97), key.publicKeys[signerIndex] as Uint8Array)) {
    throw new CosignerError('INVALID_INPUT', 'secret nonce was generated for another key', { slot: signerIndex });
  }
  const evenR = hasEven(session.R.y);
  const k1e = evenR ? k1 : Fn.neg(k1);
  const k2e = evenR ? k2 : Fn.neg(k2);
  const d = Fn.mul(key.signFactor, secretScalar);
  const a = key.coefficients[signerIndex] as bigint;
  const s = Fn.add(k1e, Fn.add(Fn.mul(session.b, k2e), Fn.mul(session.e, Fn.mul(a, d))));
  return Fn.toBytes(s);
}
