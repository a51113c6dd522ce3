/**
 * What each signer signs, recomputed from the PSBT itself: the BIP341 key-path signature message of
 * every input, and the digest that binds an approval to exactly one transaction.
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import { concatBytes } from '@noble/hashes/utils.js';
import type { Transaction } from '@scure/btc-signer';
import { CosignerError } from '../errors.ts';

/** BIP341 SIGHASH_DEFAULT: commits to everything, and leaves the signature 64 bytes. */
export const SIGHASH_DEFAULT = 0x00;
/** Every hash type BIP341 defines; any other byte makes the signature invalid. */
export const TAPROOT_SIGHASH_TYPES: readonly number[] = [0x00, 0x01, 0x02, 0x03, 0x81, 0x82, 0x83];

const NAMES: Record<number, string> = {
  0x00: 'DEFAULT',
  0x01: 'ALL',
  0x02: 'NONE',
  0x03: 'SINGLE',
  0x81: 'ALL|ANYONECANPAY',
  0x82: 'NONE|ANYONECANPAY',
  0x83: 'SINGLE|ANYONECANPAY',
};

export function sighashName(type: number): string {
  return NAMES[type] ?? `0x${type.toString(16)}`;
}

export interface Prevouts {
  readonly scripts: readonly Uint8Array[];
  readonly amounts: readonly bigint[];
}

/** The script and amount every input spends (BIP341 commits to all of them); each must be given. */
export function prevoutsOf(tx: Transaction): Prevouts {
  const scripts: Uint8Array[] = [];
  const amounts: bigint[] = [];
  for (let index = 0; index < tx.inputsLength; index++) {
    const utxo = tx.getInput(index).witnessUtxo;
    if (!utxo) throw new CosignerError('PSBT_REFUSED', `input ${index} has no witness UTXO`, { input: index, code: 'missing-utxo' });
    scripts.push(utxo.script);
    amounts.push(utxo.amount);
  }
  return { scripts, amounts };
}

/** The BIP341 signature message hash of input `index` spent by its key path (no annex). */
export function keyPathSighash(tx: Transaction, index: number, sighashType: number, prevouts: Prevouts = prevoutsOf(tx)): Uint8Array {
  if (!TAPROOT_SIGHASH_TYPES.includes(sighashType)) {
    throw new CosignerError('PSBT_REFUSED', `input ${index}: ${sighashName(sighashType)} is not a taproot sighash type`, {
      input: index,
      code: 'invalid-sighash',
    });
  }
  try {
    return tx.preimageWitnessV1(index, [...prevouts.scripts], sighashType, [...prevouts.amounts]);
  } catch (e) {
    // SIGHASH_SINGLE without a matching output: BIP341 defines no message for it.
    throw new CosignerError('PSBT_REFUSED', `input ${index}: ${(e as Error).message}`, { input: index, code: 'invalid-sighash' }, { cause: e });
  }
}

function u32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n, true);
  return out;
}

function u64(n: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, n, true);
  return out;
}

/**
 * Binds an approval to one transaction: the unsigned transaction (version, every input and sequence,
 * every output, lock time), every spent script and amount, and every input's sighash type. Two PSBTs
 * with the same digest make the same signature messages; anything a signature commits to differs
 * otherwise. Metadata that signs nothing (derivation paths, BIP373 fields) is left out.
 */
export function approvalDigest(tx: Transaction, sighashTypes: readonly number[]): Uint8Array {
  const { scripts, amounts } = prevoutsOf(tx);
  if (sighashTypes.length !== tx.inputsLength) throw new CosignerError('INVALID_INPUT', 'one sighash type per input');
  const parts: Uint8Array[] = [u32(tx.inputsLength), tx.unsignedTx];
  scripts.forEach((script, i) => parts.push(u64(amounts[i] as bigint), u32(script.length), script, u32(sighashTypes[i] as number)));
  return schnorr.utils.taggedHash('Cosigner/psbt-approval', concatBytes(...parts));
}
