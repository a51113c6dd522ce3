/**
 * Test-only helpers: BIP373 vectors, and the raw PSBT map writer (to make malformed PSBTs that no PSBT
 * library would serialize). Deterministic co-signers live in test/support/psbt-fixtures.ts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readPsbtMaps } from '../../../main/wallet/psbt-maps.ts';

export interface Bip373Case {
  validity: 'valid' | 'invalid';
  case: string;
  psbt_hex: string;
}

export const bip373Cases: Bip373Case[] = (
  JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../../../shared/vectors/bip373-test-vectors.json'), 'utf8')) as {
    cases: Bip373Case[];
  }
).cases;

/** Serializes maps exactly as given: no validation, no sorting. */
export { writePsbtMaps } from '../../../main/wallet/psbt-maps.ts';
export { bytes32, cosigners } from '../../support/psbt-fixtures.ts';

/** The key types of every input map of a PSBT, read from its raw maps. */
export function inputKeyTypes(psbt: Uint8Array): number[][] {
  return readPsbtMaps(psbt).inputs.map((map) => map.map((e) => e.keyType));
}
