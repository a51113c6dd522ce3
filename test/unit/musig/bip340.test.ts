import { schnorr } from '@noble/curves/secp256k1.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifySignature } from '../../../main/musig/index.ts';
import { hex, toHex, vectorsDir } from './bip327.ts';

type Row = {
  index: string;
  secretKey: string;
  publicKey: string;
  auxRand: string;
  message: string;
  signature: string;
  valid: boolean;
  comment: string;
};

function loadRows(): Row[] {
  const [header, ...lines] = readFileSync(path.join(vectorsDir, 'bip340-test-vectors.csv'), 'utf8').trim().split(/\r?\n/);
  expect(header).toBe('index,secret key,public key,aux_rand,message,signature,verification result,comment');
  return lines.map((line) => {
    const [index, secretKey, publicKey, auxRand, message, signature, result, ...comment] = line.split(',');
    return {
      index: index as string,
      secretKey: secretKey as string,
      publicKey: publicKey as string,
      auxRand: auxRand as string,
      message: message as string,
      signature: signature as string,
      valid: result === 'TRUE',
      comment: comment.join(','),
    };
  });
}

describe('BIP340 test vectors', () => {
  const rows = loadRows();
  it('the file holds 19 vectors', () => expect(rows).toHaveLength(19));
  for (const row of rows) {
    const name = `#${row.index}${row.comment ? `: ${row.comment}` : ''}`;
    it(`verify ${name} is ${row.valid ? 'valid' : 'invalid'}`, () => {
      expect(verifySignature(hex(row.signature), hex(row.message), hex(row.publicKey))).toBe(row.valid);
    });
    if (row.secretKey) {
      it(`sign ${name} with aux rand gives the signature`, () => {
        const secretKey = hex(row.secretKey);
        expect(toHex(schnorr.getPublicKey(secretKey))).toBe(row.publicKey);
        expect(toHex(schnorr.sign(hex(row.message), secretKey, hex(row.auxRand)))).toBe(row.signature);
      });
    }
  }
});

describe('a signature verified once', () => {
  const valid = loadRows().find((r) => r.valid && r.secretKey)!;

  it('passes again on the same bytes, and is verified afresh once any of them change', () => {
    const signature = hex(valid.signature);
    const message = hex(valid.message);
    const key = hex(valid.publicKey);
    expect(verifySignature(signature, message, key)).toBe(true);
    expect(verifySignature(signature, message, key)).toBe(true);
    // The same array under another message or key, or with its own bytes changed in place.
    const otherMessage = message.slice();
    otherMessage[0] = (otherMessage[0] as number) ^ 1;
    expect(verifySignature(signature, otherMessage, key)).toBe(false);
    expect(verifySignature(signature, message, hex(loadRows().find((r) => r.publicKey !== valid.publicKey && r.valid)!.publicKey))).toBe(
      false,
    );
    signature[63] = (signature[63] as number) ^ 1;
    expect(verifySignature(signature, message, key)).toBe(false);
    signature[63] = (signature[63] as number) ^ 1;
    expect(verifySignature(signature, message, key)).toBe(true);
  });

  it('an invalid signature stays invalid however often it is checked', () => {
    const invalid = loadRows().find((r) => !r.valid)!;
    const signature = hex(invalid.signature);
    for (let i = 0; i < 3; i++) expect(verifySignature(signature, hex(invalid.message), hex(invalid.publicKey))).toBe(false);
  });
});
