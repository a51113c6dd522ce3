import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';

const Fn = secp256k1.Point.Fn;

/** int(hash_tag(parts)) mod n, the way BIP327 and BIP340 turn tagged hashes into scalars. */
export function taggedScalar(tag: string, ...parts: Uint8Array[]): bigint {
  return Fn.create(Fn.fromBytes(schnorr.utils.taggedHash(tag, ...parts), true));
}
