/**
 * Test-only helpers: BIP373 vectors and a raw PSBT map writer (to make malformed PSBTs that no PSBT
 * library would serialize). Deterministic co-signers live in test/support/psbt-fixtures.ts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { concatBytes } from '@noble/hashes/utils.js';
import type { PsbtEntry, PsbtMaps } from '../../../main/wallet/psbt-maps.ts';

export interface Bip373Case {
  validity: 'valid' | 'invalid';
  case: string;
  psbt_hex: string;
}

export const bip373Cases: Bip373Case[] = (
  JSON.parse(
    readFileSync(path.resolve(import.meta.dirname, '../../../../shared/vectors/bip373-test-vectors.json'), 'utf8'),
  ) as { cases: Bip373Case[] }
).cases;

function compactSize(n: number): Uint8Array {
  if (n < 0xfd) return Uint8Array.of(n);
  if (n <= 0xffff) return Uint8Array.of(0xfd, n & 0xff, n >> 8);
  return Uint8Array.of(0xfe, n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24);
}

function writeMap(map: readonly PsbtEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const e of map) {
    const key = concatBytes(compactSize(e.keyType), e.keyData);
    parts.push(compactSize(key.length), key, compactSize(e.value.length), e.value);
  }
  parts.push(Uint8Array.of(0));
  return concatBytes(...parts);
}

/** Serializes maps exactly as given: no validation, no sorting. */
export function writePsbtMaps(maps: Pick<PsbtMaps, 'global' | 'inputs' | 'outputs'>): Uint8Array {
  return concatBytes(
    Uint8Array.of(0x70, 0x73, 0x62, 0x74, 0xff),
    writeMap(maps.global),
    ...maps.inputs.map(writeMap),
    ...maps.outputs.map(writeMap),
  );
}

export { bytes32, cosigners } from '../../support/psbt-fixtures.ts';
