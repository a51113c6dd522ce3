import { CosignerError } from '../errors.ts';
import { isValidSecretKey } from './key-derivation.ts';

/**
 * How the stored signer key came to be, so that the UI can say what its backup is:
 * 'generated' and 'mnemonic' keys are backed up by their words, a 'raw' key by its hex.
 */
export type KeyOrigin = 'generated' | 'mnemonic' | 'raw';

const RECORD_VERSION = 1;
const ORIGIN_CODES: readonly KeyOrigin[] = ['generated', 'mnemonic', 'raw'];

/**
 * The secret stored in the backend: [version 1][origin 0..2][32-byte secret key]. The words are
 * never stored: they are shown once at creation, and the key is what signing needs.
 */
export function encodeSignerRecord(secret: Uint8Array, origin: KeyOrigin): Uint8Array {
  const record = new Uint8Array(34);
  record[0] = RECORD_VERSION;
  record[1] = ORIGIN_CODES.indexOf(origin);
  record.set(secret, 2);
  return record;
}

/** The secret is a subarray of `record`: zeroizing the record zeroizes it. */
export function decodeSignerRecord(record: Uint8Array, backend: string): { secret: Uint8Array; origin: KeyOrigin } {
  const origin = ORIGIN_CODES[record[1] ?? -1];
  const secret = record.subarray(2);
  if (record.length !== 34 || record[0] !== RECORD_VERSION || origin === undefined || !isValidSecretKey(secret)) {
    throw new CosignerError('CORRUPT_KEY_FILE', 'the stored signer key is not in the format Cosigner writes', { backend });
  }
  return { secret, origin };
}
