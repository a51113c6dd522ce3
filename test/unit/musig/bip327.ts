/**
 * Loading the BIP327 vectors and mapping their error objects onto the engine's CosignerError codes.
 */
import { bytesToHex, hexToBytes } from '@noble/curves/utils.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { CosignerError, type ErrorCode } from '../../../main/errors.ts';

export const projectRoot = path.resolve(import.meta.dirname, '../../..');
export const vectorsDir = path.resolve(projectRoot, '../shared/vectors');

export function loadBip327<T>(name: string): T {
  return JSON.parse(readFileSync(path.join(vectorsDir, 'bip327', `${name}_vectors.json`), 'utf8')) as T;
}

export const hex = (h: string): Uint8Array => hexToBytes(h);
export const toHex = (b: Uint8Array): string => bytesToHex(b).toUpperCase();

export type VectorError = { type: 'invalid_contribution'; signer: number | null; contrib: string } | { type: 'value'; message: string };

const CODE_OF_CONTRIBUTION: Record<string, ErrorCode> = {
  pubkey: 'INVALID_PUBLIC_KEY',
  pubnonce: 'INVALID_PUBLIC_NONCE',
  aggnonce: 'INVALID_PUBLIC_NONCE',
  psig: 'INVALID_PARTIAL_SIGNATURE',
};

const CODE_OF_VALUE_ERROR: Record<string, ErrorCode> = {
  'The tweak must be less than n.': 'INVALID_TWEAK',
  'The result of tweaking cannot be infinity.': 'INVALID_TWEAK',
  "The signer's pubkey must be included in the list of pubkeys.": 'INVALID_INPUT',
  // BIP327 Sign zeroes a used secnonce, so an out-of-range one is how reuse shows up.
  'first secnonce value is out of range.': 'NONCE_REUSED',
};

/** The vector's error as (code, blamed signer or undefined when no signer is to blame). */
export function expectedFailure(error: VectorError): { code: ErrorCode; signerIndex: number | undefined } {
  if (error.type === 'invalid_contribution') {
    const code = CODE_OF_CONTRIBUTION[error.contrib];
    if (!code) throw new Error(`unmapped contribution ${error.contrib}`);
    return { code, signerIndex: error.signer ?? undefined };
  }
  const code = CODE_OF_VALUE_ERROR[error.message];
  if (!code) throw new Error(`unmapped value error ${error.message}`);
  return { code, signerIndex: undefined };
}

/** Runs `run`, which must throw the CosignerError the vector's error object maps to. */
export function expectVectorError(run: () => unknown, error: VectorError): CosignerError {
  let thrown: unknown;
  try {
    run();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, 'expected an error').toBeInstanceOf(CosignerError);
  const e = thrown as CosignerError;
  const expected = expectedFailure(error);
  expect({ code: e.code, signerIndex: e.context.signerIndex }).toEqual(expected);
  return e;
}

const LIBRARY_MESSAGE_OF_VALUE_ERROR: Record<string, RegExp> = {
  'The tweak must be less than n.': /invalid scalar: out of range/,
  "The signer's pubkey must be included in the list of pubkeys.": /must be included in the list of pubkeys/,
};

/** Runs `run`, which must throw what the library throws for this vector error. */
export function expectLibraryError(run: () => unknown, error: VectorError, libraryIndex?: number): void {
  let thrown: unknown;
  try {
    run();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, 'expected an error').toBeInstanceOf(Error);
  const e = thrown as Error & { idx?: number };
  if (error.type === 'invalid_contribution') {
    expect(e.constructor.name).toBe('InvalidContributionErr');
    expect(e.idx).toBe(error.signer ?? libraryIndex);
  } else {
    const message = LIBRARY_MESSAGE_OF_VALUE_ERROR[error.message];
    if (!message) throw new Error(`unmapped value error ${error.message}`);
    expect(e.message).toMatch(message);
  }
}

export function caseName(kind: string, index: number, testCase: { comment?: string }, detail = ''): string {
  return `${kind} #${index}${testCase.comment ? `: ${testCase.comment}` : detail ? `: ${detail}` : ''}`;
}
