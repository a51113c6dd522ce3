/**
 * The signer key and its BIP39 backup, pure functions only.
 *
 * Derivation (version 1, never to change: restoring a backup must give the same key forever):
 *
 *   seed   = BIP39 seed of the mnemonic, with the empty BIP39 passphrase
 *            (PBKDF2-HMAC-SHA512, 2048 rounds, salt "mnemonic")
 *   secret = SHA256(SHA256(tag) || SHA256(tag) || seed), tag = "Cosigner/signer-key"
 *            (the BIP340 tagged hash), used as the secret key iff 0 < secret < n
 *
 * Why the seed and a tagged hash rather than the 32 bytes of entropy as the key: the seed is what
 * every BIP39 tool computes from a mnemonic, so the key is recoverable from a fully specified,
 * standard input; the tag separates it from every other use of the same words (a user who types
 * their wallet's mnemonic gets a key unrelated to any BIP32 key of that wallet); and 12 to
 * 24-word imports all work the same way. BIP32 would allow derivation paths, but @scure/bip32 is
 * not a dependency and one key per mnemonic is all a co-signer needs.
 *
 * Why reject rather than reduce mod n when secret >= n (as BIP32 does): it keeps the key uniform
 * with no special case to document; it happens with probability below 2^-127, and the creator
 * simply draws new entropy.
 */
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { entropyToMnemonic, mnemonicToEntropy, mnemonicToSeedSync } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { ripemd160 } from '@noble/hashes/legacy.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { CosignerError } from '../errors.ts';

export const SIGNER_KEY_TAG = 'Cosigner/signer-key';
/** Generated backups are 24 words: 256 bits of entropy. */
export const MNEMONIC_ENTROPY_BYTES = 32;

const VALID_WORD_COUNTS = new Set([12, 15, 18, 21, 24]);
const WORDS = new Set(wordlist);

/** One canonical spelling of what a user typed: NFKD (as BIP39 requires), lowercase, single spaces. */
export function normalizeMnemonic(input: string): string {
  return input.normalize('NFKD').toLowerCase().trim().split(/\s+/).join(' ');
}

/**
 * Throws INVALID_MNEMONIC saying what is wrong (count, the position of an unknown word, or the
 * checksum), never which word: a typo of a real word is still most of that word.
 */
export function assertValidMnemonic(normalized: string): void {
  const words = normalized === '' ? [] : normalized.split(' ');
  if (!VALID_WORD_COUNTS.has(words.length)) {
    throw new CosignerError('INVALID_MNEMONIC', 'a backup phrase has 12, 15, 18, 21 or 24 words', {
      reason: 'word-count',
      wordCount: words.length,
    });
  }
  const unknown = words.findIndex((w) => !WORDS.has(w));
  if (unknown >= 0) {
    throw new CosignerError('INVALID_MNEMONIC', `word ${unknown + 1} is not in the BIP39 English word list`, {
      reason: 'unknown-word',
      position: unknown + 1,
    });
  }
  try {
    mnemonicToEntropy(normalized, wordlist);
  } catch {
    throw new CosignerError('INVALID_MNEMONIC', 'the backup phrase checksum does not match: a word is wrong or out of order', {
      reason: 'checksum',
    });
  }
}

export function mnemonicFromEntropy(entropy: Uint8Array): string {
  return entropyToMnemonic(entropy, wordlist);
}

/** The derivation above. `mnemonic` must be normalized and valid. */
export function secretKeyFromMnemonic(mnemonic: string): Uint8Array {
  const seed = mnemonicToSeedSync(mnemonic, '');
  const secret = schnorr.utils.taggedHash(SIGNER_KEY_TAG, seed);
  seed.fill(0);
  if (!secp256k1.utils.isValidSecretKey(secret)) {
    secret.fill(0);
    throw new CosignerError('INVALID_MNEMONIC', 'this backup phrase does not give a usable key; create a new one', {
      reason: 'unusable-key',
    });
  }
  return secret;
}

export function isValidSecretKey(secret: Uint8Array): boolean {
  return secret.length === 32 && secp256k1.utils.isValidSecretKey(secret);
}

/** A raw secret as 64 hex digits (whitespace ignored); rejects 0 and values >= n. */
export function parseSecretKeyHex(input: string): Uint8Array {
  const hex = input.replace(/\s+/g, '');
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new CosignerError('INVALID_SECRET_KEY', 'a secret key is 64 hexadecimal digits', { length: hex.length });
  }
  const secret = hexToBytes(hex.toLowerCase());
  if (!isValidSecretKey(secret)) {
    secret.fill(0);
    throw new CosignerError('INVALID_SECRET_KEY', 'the secret key is zero or not below the curve order');
  }
  return secret;
}

/** 33-byte compressed public key. */
export function publicKeyOf(secret: Uint8Array): Uint8Array {
  return secp256k1.getPublicKey(secret, true);
}

/** First 4 bytes of HASH160(compressed public key), as BIP32 key fingerprints: 8 hex digits. */
export function fingerprintOf(publicKey: Uint8Array): string {
  return bytesToHex(ripemd160(sha256(publicKey)).subarray(0, 4));
}
