import { createHash, pbkdf2Sync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { mnemonicToEntropy, mnemonicToSeedSync } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { isCosignerError } from '../../../main/errors.ts';
import {
  assertValidMnemonic,
  fingerprintOf,
  mnemonicFromEntropy,
  normalizeMnemonic,
  parseSecretKeyHex,
  publicKeyOf,
  secretKeyFromMnemonic,
  SIGNER_KEY_TAG,
} from '../../../main/keys/key-derivation.ts';

const root = resolve(import.meta.dirname, '../../..');
const bip39 = JSON.parse(readFileSync(resolve(root, 'test/fixtures/bip39-vectors.json'), 'utf8')) as {
  passphrase: string;
  vectors: { entropy: string; mnemonic: string; seed: string }[];
};
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const hex32 = (n: bigint): string => n.toString(16).padStart(64, '0');

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isCosignerError(e) ? `${e.code}${e.context.reason ? `:${e.context.reason}` : ''}` : `foreign:${String(e)}`;
  }
  return undefined;
}

describe('BIP39 reference vectors (trezor/python-mnemonic, English)', () => {
  it('has the vectors the fixture promises: 128- to 256-bit, including the all-zero entropy', () => {
    expect(bip39.vectors.length).toBeGreaterThanOrEqual(6);
    expect(bip39.vectors[0]?.mnemonic).toBe(
      'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about',
    );
    expect(bip39.vectors.filter((v) => v.mnemonic.split(' ').length === 24).length).toBeGreaterThanOrEqual(4);
  });

  it.each(bip39.vectors)('$entropy: entropy → words → entropy, validation and seed', (v) => {
    expect(mnemonicFromEntropy(hexToBytes(v.entropy))).toBe(v.mnemonic);
    expect(bytesToHex(mnemonicToEntropy(v.mnemonic, wordlist))).toBe(v.entropy);
    // What a user types is normalized to the same phrase and accepted.
    const sloppy = `  ${v.mnemonic.toUpperCase().split(' ').join('  \n')} `;
    expect(normalizeMnemonic(sloppy)).toBe(v.mnemonic);
    expect(() => assertValidMnemonic(normalizeMnemonic(sloppy))).not.toThrow();
    expect(bytesToHex(mnemonicToSeedSync(v.mnemonic, bip39.passphrase))).toBe(v.seed);
  });
});

describe('signer key derivation from a mnemonic', () => {
  // Computed independently of the code under test (node:crypto PBKDF2 and SHA-256): the
  // derivation documented in key-derivation.ts, spelled out.
  function reference(mnemonic: string): string {
    const seed = pbkdf2Sync(Buffer.from(mnemonic.normalize('NFKD')), Buffer.from('mnemonic'), 2048, 64, 'sha512');
    const tag = createHash('sha256').update(SIGNER_KEY_TAG).digest();
    return createHash('sha256').update(tag).update(tag).update(seed).digest('hex');
  }

  it.each(bip39.vectors.slice(0, 12))('matches BIP39 seed → tagged hash for $mnemonic', (v) => {
    expect(bytesToHex(secretKeyFromMnemonic(v.mnemonic))).toBe(reference(v.mnemonic));
  });

  it('is pinned: the all-zero 24-word phrase gives this key forever (a change would orphan every backup)', () => {
    const words = `${'abandon '.repeat(23)}art`;
    const secret = secretKeyFromMnemonic(words);
    expect(bytesToHex(secret)).toBe('2dba8f43c928fac1221acd5190dac53bf5d15c1936243b9dc15ba76f8ff4a2be');
    const publicKey = publicKeyOf(secret);
    expect(bytesToHex(publicKey)).toBe('03080cbfe48415144096cd2fa358a2d8a22325451b60777af6b6cfb0a1b00d1112');
    expect(fingerprintOf(publicKey)).toBe('d9d68a5a');
  });
});

describe('public key and fingerprint of an imported secret', () => {
  it('secret 1 gives the generator G and the well-known HASH160 751e76e8…', () => {
    const publicKey = publicKeyOf(parseSecretKeyHex(hex32(1n)));
    expect(bytesToHex(publicKey)).toBe('0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798');
    expect(fingerprintOf(publicKey)).toBe('751e76e8');
  });

  const csv = readFileSync(resolve(root, '../shared/vectors/bip340-test-vectors.csv'), 'utf8').trim().split('\n').slice(1);
  const withSecret = csv.map((line) => line.split(',')).filter((cols) => (cols[1] ?? '') !== '');

  it.each(withSecret.map((c) => ({ index: c[0], secret: c[1] as string, xOnly: c[2] as string })))(
    "BIP340 vector $index: the x coordinate of the public key is the vector's key",
    ({ secret, xOnly }) => {
      const publicKey = publicKeyOf(parseSecretKeyHex(secret));
      expect(publicKey.length).toBe(33);
      expect(bytesToHex(publicKey.subarray(1))).toBe(xOnly.toLowerCase());
    },
  );

  it('accepts hex with whitespace and either case', () => {
    const spaced = `  ${hex32(N - 1n)
      .toUpperCase()
      .replace(/(.{8})/g, '$1 ')}\n`;
    expect(bytesToHex(parseSecretKeyHex(spaced))).toBe(hex32(N - 1n));
  });

  it.each([
    ['zero', hex32(0n)],
    ['the curve order n', hex32(N)],
    ['n + 1', hex32(N + 1n)],
    ['all ones', 'f'.repeat(64)],
  ])('rejects %s', (_name, hex) => {
    expect(codeOf(() => parseSecretKeyHex(hex))).toBe('INVALID_SECRET_KEY');
  });

  it.each([
    ['63 digits', '1'.repeat(63)],
    ['65 digits', '1'.repeat(65)],
    ['not hex', 'g'.repeat(64)],
    ['0x prefix', `0x${'1'.repeat(62)}`],
  ])('rejects %s', (_name, hex) => {
    expect(codeOf(() => parseSecretKeyHex(hex))).toBe('INVALID_SECRET_KEY');
  });
});

describe('mnemonic validation errors say what is wrong, never which word', () => {
  const good = bip39.vectors[8]?.mnemonic as string;

  it.each([
    ['23 words', good.split(' ').slice(1).join(' '), 'INVALID_MNEMONIC:word-count'],
    ['empty', '', 'INVALID_MNEMONIC:word-count'],
    ['an unknown word', good.replace(/art$/, 'artt'), 'INVALID_MNEMONIC:unknown-word'],
    ['a wrong checksum', good.replace(/art$/, 'zoo'), 'INVALID_MNEMONIC:checksum'],
    ['swapped words', ['zoo', ...good.split(' ').slice(1, 23), 'abandon'].join(' '), 'INVALID_MNEMONIC:checksum'],
  ])('%s', (_name, phrase, code) => {
    expect(codeOf(() => assertValidMnemonic(normalizeMnemonic(phrase)))).toBe(code);
  });

  it('names the position of an unknown word, not the word', () => {
    try {
      assertValidMnemonic(normalizeMnemonic(good.replace(/^abandon/, 'abandonn')));
      expect.unreachable();
    } catch (e) {
      expect(isCosignerError(e, 'INVALID_MNEMONIC') && e.context.position).toBe(1);
      expect(JSON.stringify(e)).not.toContain('abandonn');
    }
  });
});
