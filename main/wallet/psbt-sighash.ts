/**
 * What each signer signs, recomputed from the PSBT itself: the BIP341 key-path signature message of
 * every input, and the digest that binds an approval to exactly one transaction.
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes } from '@noble/hashes/utils.js';
import { RawTx, type Transaction } from '@scure/btc-signer';
import { VarBytes } from '@scure/btc-signer/script.js';
import { CosignerError } from '../errors.ts';

/** BIP341 SIGHASH_DEFAULT: commits to everything, and leaves the signature 64 bytes. */
export const SIGHASH_DEFAULT = 0x00;
const SIGHASH_ALL = 0x01;
const SIGHASH_SINGLE = 0x03;
const SIGHASH_ANYONECANPAY = 0x80;
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

/**
 * BIP341 SigMsg of one transaction's inputs (no annex): key-path spends (ext_flag 0), and BIP342
 * script-path spends of a tapscript leaf (ext_flag 1: the leaf hash, key_version 0, and no
 * OP_CODESEPARATOR executed). The hashes over all
 * inputs and outputs are made once here and shared by every input's message: @scure/btc-signer's
 * preimageWitnessV1 hashes them all again for each input, quadratic in inputs (about 1 ms an input
 * at 100 inputs, most of a PSBT's signing plan). Checked against bitcoinjs-lib's hashForWitnessV1
 * for every hash type, with and without a leaf hash (test/unit/wallet/psbt-sighash.test.ts).
 */
export class TaprootSighasher {
  readonly #version: number;
  readonly #lockTime: number;
  readonly #outpoints: readonly Uint8Array[];
  readonly #sequences: readonly number[];
  readonly #outputs: readonly Uint8Array[];
  readonly #prevouts: Prevouts;
  /** sha_prevouts, sha_amounts, sha_scriptpubkeys, sha_sequences (for all but ANYONECANPAY). */
  readonly #inputHashes: readonly Uint8Array[];
  /** sha_outputs (for ALL and DEFAULT). */
  readonly #outputsHash: Uint8Array;

  constructor(tx: Transaction, prevouts: Prevouts = prevoutsOf(tx)) {
    // The unsigned transaction is what is signed: its fields as it serializes them.
    const raw = RawTx.decode(tx.unsignedTx);
    if (prevouts.scripts.length !== raw.inputs.length || prevouts.amounts.length !== raw.inputs.length) {
      throw new CosignerError('INVALID_INPUT', 'one spent script and amount per input', { inputs: raw.inputs.length });
    }
    this.#version = raw.version;
    this.#lockTime = raw.lockTime;
    // RawTx gives txids in display order; an outpoint serializes the hash's own byte order.
    this.#outpoints = raw.inputs.map((input) => concatBytes(Uint8Array.from(input.txid).reverse(), u32(input.index)));
    this.#sequences = raw.inputs.map((input) => input.sequence);
    this.#outputs = raw.outputs.map((output) => concatBytes(u64(output.amount), VarBytes.encode(output.script)));
    this.#prevouts = prevouts;
    this.#inputHashes = [
      sha256(concatBytes(...this.#outpoints)),
      sha256(concatBytes(...prevouts.amounts.map(u64))),
      sha256(concatBytes(...prevouts.scripts.map((script) => VarBytes.encode(script)))),
      sha256(concatBytes(...this.#sequences.map(u32))),
    ];
    this.#outputsHash = sha256(concatBytes(...this.#outputs));
  }

  /**
   * The signature message hash of input `index` (no annex): spent by its key path, or, given the
   * BIP341 hash of the tapscript leaf it executes, by that leaf's script path (BIP342).
   */
  message(index: number, sighashType: number, leafHash?: Uint8Array): Uint8Array {
    if (leafHash !== undefined && leafHash.length !== 32) throw new CosignerError('INVALID_INPUT', 'a leaf hash is 32 bytes');
    if (!TAPROOT_SIGHASH_TYPES.includes(sighashType)) {
      throw new CosignerError('PSBT_REFUSED', `input ${index}: ${sighashName(sighashType)} is not a taproot sighash type`, {
        input: index,
        code: 'invalid-sighash',
      });
    }
    if (!Number.isInteger(index) || index < 0 || index >= this.#outpoints.length) {
      throw new CosignerError('INVALID_INPUT', `no input ${index}`, { input: index });
    }
    const outputType = sighashType === SIGHASH_DEFAULT ? SIGHASH_ALL : sighashType & 0x03;
    const anyoneCanPay = (sighashType & SIGHASH_ANYONECANPAY) !== 0;
    const single = this.#outputs[index];
    if (outputType === SIGHASH_SINGLE && single === undefined) {
      // BIP341 defines no message for it: such a signature could never be valid.
      throw new CosignerError('PSBT_REFUSED', `input ${index}: sighash SINGLE, but there is no output ${index}`, {
        input: index,
        code: 'invalid-sighash',
      });
    }
    const version = new Uint8Array(4);
    new DataView(version.buffer).setInt32(0, this.#version, true);
    // Epoch 0, then SigMsg(hash_type, 0).
    const parts: Uint8Array[] = [Uint8Array.of(0, sighashType), version, u32(this.#lockTime)];
    if (!anyoneCanPay) parts.push(...this.#inputHashes);
    if (outputType === SIGHASH_ALL) parts.push(this.#outputsHash);
    parts.push(Uint8Array.of(leafHash === undefined ? 0 : 2)); // spend_type: ext_flag * 2, no annex
    if (anyoneCanPay) {
      parts.push(
        this.#outpoints[index] as Uint8Array,
        u64(this.#prevouts.amounts[index] as bigint),
        VarBytes.encode(this.#prevouts.scripts[index] as Uint8Array),
        u32(this.#sequences[index] as number),
      );
    } else {
      parts.push(u32(index));
    }
    if (outputType === SIGHASH_SINGLE) parts.push(sha256(single as Uint8Array));
    // BIP342 extension: tapleaf_hash, key_version 0, codesep_pos 0xffffffff.
    if (leafHash !== undefined) parts.push(leafHash, Uint8Array.of(0), u32(0xffff_ffff));
    return schnorr.utils.taggedHash('TapSighash', concatBytes(...parts));
  }
}

/** The signature message hash of input `index` (no annex), by its key path or, with `leafHash`, that
 *  leaf's script path. For every input of one transaction, make one TaprootSighasher instead. */
export function taprootSighash(
  tx: Transaction,
  index: number,
  sighashType: number,
  prevouts: Prevouts = prevoutsOf(tx),
  leafHash?: Uint8Array,
): Uint8Array {
  return new TaprootSighasher(tx, prevouts).message(index, sighashType, leafHash);
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
