import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sortKeys as librarySortKeys } from '@scure/btc-signer/musig2.js';
import { CosignerError } from '../errors.ts';

const Fn = secp256k1.Point.Fn;

export function isBytes(value: unknown, length?: number): value is Uint8Array {
  return value instanceof Uint8Array && (length === undefined || value.length === length);
}

/** The secret scalar d' of a 32-byte key in [1, n). The message never includes the key. */
export function secretScalar(secretKey: Uint8Array): bigint {
  if (!isBytes(secretKey, 32)) throw new CosignerError('INVALID_SECRET_KEY', 'secret key must be 32 bytes');
  const d = Fn.fromBytes(secretKey, true);
  if (!Fn.isValidNot0(d)) throw new CosignerError('INVALID_SECRET_KEY', 'secret key is not in [1, n)');
  return d;
}

/** Compressed 33-byte public key of a secret key (BIP327 IndividualPubkey). */
export function publicKeyOf(secretKey: Uint8Array): Uint8Array {
  secretScalar(secretKey);
  return secp256k1.getPublicKey(secretKey, true);
}

/** BIP327 KeySort: a sorted copy, byte-wise. Keys are not decoded, as in the BIP. */
export function sortKeys(publicKeys: readonly Uint8Array[]): Uint8Array[] {
  if (!Array.isArray(publicKeys) || publicKeys.length === 0) {
    throw new CosignerError('INVALID_INPUT', 'expected a non-empty list of public keys');
  }
  publicKeys.forEach((key, signerIndex) => {
    if (!isBytes(key, 33)) {
      throw new CosignerError('INVALID_PUBLIC_KEY', 'public key must be 33 bytes', { signerIndex });
    }
  });
  return librarySortKeys(publicKeys.map((key) => Uint8Array.from(key)));
}
