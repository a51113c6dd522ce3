/**
 * The PSBT version a PSBT is handed out in. Bitcoin Core reads PSBTv0 only, so every PSBT the app
 * gives out is v0 unless v2 (BIP370) is asked for; the fields are the same, only where the unsigned
 * transaction lives differs. A PSBT already in the version asked for is returned as it is.
 */
import { base64 } from '@scure/base';
import { Transaction } from '@scure/btc-signer';
import type { PsbtExportVersion } from '../../preload/contract.ts';
import { CosignerError } from '../errors.ts';
import { readPsbtMaps } from './psbt-maps.ts';

/** Version 0 unless the caller asks for 2. */
export const DEFAULT_EXPORT_VERSION: PsbtExportVersion = 0;

export function psbtAsVersion(psbt: Uint8Array, version: PsbtExportVersion = DEFAULT_EXPORT_VERSION): Uint8Array {
  if (readPsbtMaps(psbt).version === version) return psbt;
  try {
    // unknown: 'ignore' keeps the fields the engine does not know; the scripts were checked at import.
    const tx = Transaction.fromPSBT(psbt, {
      unknown: 'ignore',
      allowUnknownInputs: true,
      allowUnknownOutputs: true,
      disableScriptCheck: true,
    });
    return tx.toPSBT(version);
  } catch (e) {
    throw new CosignerError('INVALID_PSBT', `the PSBT cannot be written as version ${version}: ${(e as Error).message}`, {}, { cause: e });
  }
}

/** psbtAsVersion on base64 text, to base64. */
export function base64AsVersion(psbtBase64: string, version: PsbtExportVersion = DEFAULT_EXPORT_VERSION): string {
  return base64.encode(psbtAsVersion(base64.decode(psbtBase64), version));
}
