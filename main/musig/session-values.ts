import type { WeierstrassPoint } from '@noble/curves/abstract/weierstrass.js';
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { CosignerError } from '../errors.ts';
import { taggedScalar } from './hash.ts';
import type { KeyAggInternals } from './key-agg.ts';

type Point = WeierstrassPoint<bigint>;
const Point = secp256k1.Point;
const { pointToBytes } = schnorr.utils;

/** BIP327 GetSessionValues output that depends on the message and the aggregate nonce. */
export interface SessionValues {
  readonly b: bigint;
  readonly R: Point;
  readonly e: bigint;
  readonly message: Uint8Array;
}

// BIP327 cpoint_ext: 33 zero bytes stand for the point at infinity.
function decodeExt(bytes: Uint8Array): Point {
  return bytes.every((byte) => byte === 0) ? Point.ZERO : Point.fromBytes(bytes);
}

/** The two points of a 66-byte (aggregate) public nonce; throws on an invalid encoding. */
export function noncePoints(nonce: Uint8Array): [Point, Point] {
  return [decodeExt(nonce.subarray(0, 33)), decodeExt(nonce.subarray(33, 66))];
}

/** BIP327 GetSessionValues for one message, reusing the key aggregation done once per context. */
export function sessionValues(key: KeyAggInternals, aggNonce: Uint8Array, message: Uint8Array): SessionValues {
  let R1: Point;
  let R2: Point;
  try {
    if (aggNonce.length !== 66) throw new Error('aggregate nonce must be 66 bytes');
    [R1, R2] = noncePoints(aggNonce);
  } catch (e) {
    throw new CosignerError('INVALID_PUBLIC_NONCE', 'aggregate nonce is invalid', { contrib: 'aggnonce' }, { cause: e });
  }
  const b = taggedScalar('MuSig/noncecoef', aggNonce, key.xOnlyQ, message);
  // b and the nonce points are public, so variable-time multiplication is safe here.
  const sum = R1.add(R2.multiplyUnsafe(b));
  const R = sum.is0() ? Point.BASE : sum;
  const e = taggedScalar('BIP0340/challenge', pointToBytes(R), key.xOnlyQ, message);
  return Object.freeze({ b, R, e, message: Uint8Array.from(message) });
}
