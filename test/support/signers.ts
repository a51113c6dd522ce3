import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { SignerKey } from '../../main/session/ports.ts';

export interface TestSigner extends SignerKey {
  readonly label: string;
  readonly secret: Uint8Array;
  readonly hex: string;
}

/** A signer key derived from `label`, so every run and every test file gets the same key for it. */
export function testSigner(label: string): TestSigner {
  const secret = sha256(new TextEncoder().encode(`cosigner-test-signer/${label}`));
  const publicKey = secp256k1.getPublicKey(secret, true);
  return { label, secret, publicKey, hex: bytesToHex(publicKey), secretKey: () => secret.slice() };
}
