import { schnorr } from '@noble/curves/secp256k1.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyVerifier } from '../../../main/musig/index.ts';
import { hex, vectorsDir } from './bip327.ts';

const rows = readFileSync(path.join(vectorsDir, 'bip340-test-vectors.csv'), 'utf8')
  .trim()
  .split(/\r?\n/)
  .slice(1)
  .map((line) => {
    const [index, , publicKey, , message, signature, result] = line.split(',');
    return {
      index: index as string,
      publicKey: publicKey as string,
      message: message as string,
      signature: signature as string,
      valid: result === 'TRUE',
    };
  });

describe('KeyVerifier', () => {
  it('gives every BIP340 vector its result, with the key prepared and without', () => {
    expect(rows).toHaveLength(19);
    const prepared = new KeyVerifier();
    const plain = new KeyVerifier();
    for (const row of rows) {
      prepared.prepare(hex(row.publicKey));
      expect(prepared.verify(hex(row.signature), hex(row.message), hex(row.publicKey)), `#${row.index}`).toBe(row.valid);
      expect(plain.verify(hex(row.signature), hex(row.message), hex(row.publicKey)), `#${row.index}`).toBe(row.valid);
    }
    // Vector 5's key is not on the curve and vector 14's exceeds the field: nothing to prepare.
    expect(prepared.prepared).toBe(new Set(rows.filter((r) => r.index !== '5' && r.index !== '14').map((r) => r.publicKey)).size);
    expect(plain.prepared).toBe(0);
  });

  it('agrees with schnorr.verify on random signatures, valid and tampered', () => {
    const verifier = new KeyVerifier(4);
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 48, maxLength: 48 }),
        fc.uint8Array({ minLength: 0, maxLength: 80 }),
        fc.nat(63),
        fc.integer({ min: 1, max: 255 }),
        (seed, message, at, flip) => {
          const secret = schnorr.utils.randomSecretKey(seed);
          const key = schnorr.getPublicKey(secret);
          const signature = schnorr.sign(message, secret, new Uint8Array(32));
          verifier.prepare(key);
          expect(verifier.verify(signature, message, key)).toBe(true);
          const tampered = signature.slice();
          tampered[at] = (tampered[at] as number) ^ flip;
          expect(verifier.verify(tampered, message, key)).toBe(schnorr.verify(tampered, message, key));
          const other = message.length > 0 ? message.slice(1) : Uint8Array.of(1);
          expect(verifier.verify(signature, other, key)).toBe(false);
        },
      ),
      { numRuns: 40 },
    );
    expect(verifier.prepared).toBe(4);
  });

  it('refuses malformed input instead of throwing', () => {
    const verifier = new KeyVerifier();
    const key = hex(rows[0]!.publicKey);
    verifier.prepare(key);
    expect(verifier.verify(new Uint8Array(63), new Uint8Array(32), key)).toBe(false);
    expect(verifier.verify(new Uint8Array(64).fill(0xff), new Uint8Array(32), key)).toBe(false);
    expect(verifier.verify(new Uint8Array(64), new Uint8Array(32), key)).toBe(false);
    expect(verifier.verify(new Uint8Array(64), new Uint8Array(32), new Uint8Array(31))).toBe(false);
    verifier.prepare(new Uint8Array(5));
    expect(verifier.prepared).toBe(1);
  });
});
