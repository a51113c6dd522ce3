/**
 * PSBT import: base64, hex or a file's bytes (PSBT v0 or v2) to a @scure/btc-signer Transaction,
 * after the BIP373 layer has checked every MuSig2 field; then which inputs a key-path-only n-of-n
 * group spends by its taproot key path, with a reason for every input it does not (a group with a
 * policy: psbt-path-import.ts, which shares the checks exported here).
 */
import { equalBytes } from '@noble/curves/utils.js';
import { base64 } from '@scure/base';
import { Transaction } from '@scure/btc-signer';
import { CosignerError } from '../errors.ts';
import { readBip373Fields } from './bip373.ts';
import type { DerivedGroupKey } from './bip328.ts';
import type { GroupKeys } from './group-keys.ts';
import { PSBT_MAGIC, readPsbtMaps } from './psbt-maps.ts';
import { SIGHASH_DEFAULT, sighashName, TAPROOT_SIGHASH_TYPES } from './psbt-sighash.ts';

/** Fits an announcement frame (256 KiB) with room for everything else it carries. */
export const MAX_PSBT_BYTES = 128 * 1024;
/** One signing message per input, and a session signs at most PROTOCOL_MAX_MESSAGES (128). */
export const MAX_PSBT_INPUTS = 128;
export const MAX_PSBT_OUTPUTS = 256;
/** 21 million bitcoin in satoshis: no amount, nor sum of amounts, is larger. */
export const MAX_MONEY = 2_100_000_000_000_000n;

export interface ImportedPsbt {
  /** The PSBT as read (binary): what a finalizer writes the final witnesses into. */
  readonly bytes: Uint8Array;
  /** The PSBT engine's view, where signing progress is written. */
  readonly tx: Transaction;
  readonly version: 0 | 2;
}

const HEX = /^(?:[0-9a-fA-F]{2})+$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function startsWithMagic(bytes: Uint8Array): boolean {
  return bytes.length >= PSBT_MAGIC.length && PSBT_MAGIC.every((byte, i) => bytes[i] === byte);
}

/** The PSBT's bytes from what a user gives: binary (a .psbt file), or hex or base64 text. */
export function psbtBytes(input: string | Uint8Array): Uint8Array {
  if (input instanceof Uint8Array && startsWithMagic(input)) return input.slice();
  const text = (input instanceof Uint8Array ? new TextDecoder('utf-8', { fatal: false }).decode(input) : input).replace(/\s+/g, '');
  // Text is at most twice the bytes (hex); refuse before decoding anything bigger.
  if (text.length > 2 * MAX_PSBT_BYTES) throw new CosignerError('INVALID_PSBT', `a PSBT is at most ${MAX_PSBT_BYTES} bytes`);
  let bytes: Uint8Array | undefined;
  if (HEX.test(text)) bytes = Uint8Array.from(text.match(/../g) ?? [], (h) => Number.parseInt(h, 16));
  else if (BASE64.test(text) && text.length % 4 === 0) bytes = base64.decode(text);
  if (!bytes || !startsWithMagic(bytes)) {
    throw new CosignerError('INVALID_PSBT', 'not a PSBT: expected base64 (cHNidP8…), hex (70736274ff…) or a binary .psbt file');
  }
  return bytes;
}

/**
 * Reads a PSBT. The BIP373 fields are checked first, so a malformed one is refused with its own
 * reason; then @scure/btc-signer parses the whole (unknown fields are kept, so nothing another tool
 * wrote is lost on export).
 */
export function importPsbt(input: string | Uint8Array): ImportedPsbt {
  const bytes = psbtBytes(input);
  if (bytes.length > MAX_PSBT_BYTES)
    throw new CosignerError('INVALID_PSBT', `a PSBT is at most ${MAX_PSBT_BYTES} bytes`, { bytes: bytes.length });
  const maps = readPsbtMaps(bytes);
  if (maps.inputs.length === 0 || maps.inputs.length > MAX_PSBT_INPUTS) {
    throw new CosignerError('INVALID_PSBT', `a PSBT to sign has 1 to ${MAX_PSBT_INPUTS} inputs`, { inputs: maps.inputs.length });
  }
  if (maps.outputs.length === 0 || maps.outputs.length > MAX_PSBT_OUTPUTS) {
    throw new CosignerError('INVALID_PSBT', `a PSBT to sign has 1 to ${MAX_PSBT_OUTPUTS} outputs`, { outputs: maps.outputs.length });
  }
  readBip373Fields(maps);
  let tx: Transaction;
  try {
    // disableScriptCheck: @scure/btc-signer's check of every input's scripts and taproot commitment
    // (a point decompression and multiplication each, about 60% of reading a 100-input PSBT) is
    // made again, stronger, for every input this group would sign: classifyInput re-derives its
    // output and internal keys and refuses redeem, witness and script-path data. Any other input
    // refuses the whole PSBT.
    tx = Transaction.fromPSBT(bytes, { unknown: 'ignore', allowUnknownOutputs: true, allowUnknownInputs: true, disableScriptCheck: true });
  } catch (e) {
    throw new CosignerError('INVALID_PSBT', `the PSBT cannot be read: ${(e as Error).message}`, {}, { cause: e });
  }
  let totalOut = 0n;
  for (let index = 0; index < tx.outputsLength; index++) {
    const amount = tx.getOutput(index).amount ?? 0n;
    totalOut += amount;
    if (amount > MAX_MONEY || totalOut > MAX_MONEY)
      throw new CosignerError('INVALID_PSBT', `output ${index} pays more than 21 million bitcoin`, { output: index });
  }
  return { bytes, tx, version: maps.version };
}

/**
 * Inputs minus outputs in satoshis; null when an input does not say what it spends. INVALID_PSBT
 * when the outputs spend more than the inputs or the inputs add up to more than 21 million bitcoin.
 */
export function feeOf(tx: Transaction): bigint | null {
  let totalIn = 0n;
  for (let index = 0; index < tx.inputsLength; index++) {
    const utxo = tx.getInput(index).witnessUtxo;
    if (!utxo) return null;
    totalIn += utxo.amount;
  }
  if (totalIn > MAX_MONEY) throw new CosignerError('INVALID_PSBT', 'the inputs add up to more than 21 million bitcoin');
  let totalOut = 0n;
  for (let index = 0; index < tx.outputsLength; index++) totalOut += tx.getOutput(index).amount ?? 0n;
  if (totalOut > totalIn)
    throw new CosignerError('INVALID_PSBT', 'the outputs spend more than the inputs', { fee: Number(totalIn - totalOut) });
  return totalIn - totalOut;
}

export type InputRefusalCode =
  | 'already-finalized'
  | 'missing-utxo'
  | 'invalid-amount'
  | 'not-taproot'
  | 'not-ours'
  | 'inconsistent-metadata'
  | 'script-path'
  | 'invalid-sighash'
  | 'sighash-not-allowed'
  | 'foreign-musig-fields'
  | 'foreign-leaf'
  | 'wrong-control-block'
  | 'timelock-not-met';

export interface OwnInput {
  readonly index: number;
  readonly status: 'ours';
  readonly key: DerivedGroupKey;
  readonly sighashType: number;
  readonly amount: bigint;
}

export interface RefusedInput {
  readonly index: number;
  readonly status: 'refused';
  readonly code: InputRefusalCode;
  readonly reason: string;
}

export type InputClass = OwnInput | RefusedInput;

export interface ClassifyOptions {
  /** The request allows inputs that ask for a sighash type other than DEFAULT (a session creator's
   *  flag, or the local user's own request). Not enough alone: see localAllowsNonDefaultSighash. */
  readonly allowNonDefaultSighash?: boolean;
  /** This node's own policy (a setting, off by default). A non-DEFAULT type signs only some of the
   *  transaction, so the group's money could be moved by whoever completes it: a creator's flag must
   *  not decide that for every signer. */
  readonly localAllowsNonDefaultSighash?: boolean;
}

function isTaprootScript(script: Uint8Array): boolean {
  return script.length === 34 && script[0] === 0x51 && script[1] === 0x20;
}

export function refused(index: number, code: InputRefusalCode, reason: string): RefusedInput {
  return { index, status: 'refused', code, reason };
}

function hasKey(keys: readonly Uint8Array[], key: Uint8Array): boolean {
  return keys.some((k) => equalBytes(k, key));
}

/** Why the BIP373 fields of an input the group spends do not describe this group, if they do not. */
function foreignMusig(input: ReturnType<Transaction['getInput']>, keys: GroupKeys, key: DerivedGroupKey): string | undefined {
  const { group } = keys;
  for (const [aggregate, participants] of input.musig2ParticipantPubkeys ?? []) {
    const same =
      equalBytes(aggregate, group.aggregateKey) &&
      participants.length === group.publicKeys.length &&
      participants.every((p, i) => equalBytes(p, group.publicKeys[i] as Uint8Array));
    if (!same) return 'its MuSig2 participant list is not this group (keys, or their sorted order, differ)';
  }
  for (const [k] of [...(input.musig2PubNonce ?? []), ...(input.musig2PartialSig ?? [])]) {
    if (k.leafHash !== undefined) return 'it carries MuSig2 data for a script path';
    if (!equalBytes(k.aggregatePubkey, key.signingCtx.aggregateKey))
      return 'it carries MuSig2 nonces or partial signatures for another key';
    if (!hasKey(group.publicKeys, k.participantPubkey)) return 'it carries MuSig2 data from a key that is not in this group';
  }
  return undefined;
}

/**
 * Why an input is not a taproot output anyone could sign for yet: finalized already, its UTXO
 * missing or impossible, or not taproot. The first checks of every classification.
 */
export function spentOutputRefusal(tx: Transaction, index: number): RefusedInput | undefined {
  const input = tx.getInput(index);
  if (input.finalScriptWitness || input.finalScriptSig) return refused(index, 'already-finalized', 'this input is already finalized');
  const utxo = input.witnessUtxo;
  if (!utxo) return refused(index, 'missing-utxo', 'the PSBT does not give the output this input spends (witness UTXO)');
  if (utxo.amount > MAX_MONEY) return refused(index, 'invalid-amount', 'the spent amount is more than 21 million bitcoin');
  if (!isTaprootScript(utxo.script)) return refused(index, 'not-taproot', 'this input does not spend a taproot output');
  return undefined;
}

/** Why the input's sighash type is not signed here, if it is not (see ClassifyOptions). */
export function sighashRefusal(index: number, sighashType: number, options: ClassifyOptions): RefusedInput | undefined {
  if (!TAPROOT_SIGHASH_TYPES.includes(sighashType)) {
    return refused(index, 'invalid-sighash', `sighash type ${sighashName(sighashType)} is not valid for taproot`);
  }
  if (sighashType !== SIGHASH_DEFAULT && !options.allowNonDefaultSighash) {
    return refused(
      index,
      'sighash-not-allowed',
      `it asks for sighash ${sighashName(sighashType)}; only DEFAULT is signed unless the request allows others`,
    );
  }
  if (sighashType !== SIGHASH_DEFAULT && !options.localAllowsNonDefaultSighash) {
    return refused(
      index,
      'sighash-not-allowed',
      `it asks for sighash ${sighashName(sighashType)}; this app's settings allow signing only DEFAULT, whatever the request says`,
    );
  }
  return undefined;
}

function classifyInput(tx: Transaction, index: number, keys: GroupKeys, options: ClassifyOptions): InputClass {
  const spent = spentOutputRefusal(tx, index);
  if (spent) return spent;
  const input = tx.getInput(index);
  const utxo = input.witnessUtxo as NonNullable<typeof input.witnessUtxo>;
  const key = keys.match(utxo.script.subarray(2), input.tapBip32Derivation ?? []);
  if (!key) {
    return refused(
      index,
      'not-ours',
      "this input spends a taproot output that is neither this group's key nor a verified derivation of it",
    );
  }
  // @scure/btc-signer already refuses, at import, an internal key whose tweak is not the output key;
  // this holds whatever built the Transaction.
  if (input.tapInternalKey && !equalBytes(input.tapInternalKey, key.internalKey)) {
    return refused(index, 'inconsistent-metadata', "its taproot internal key is not the group's key for this output");
  }
  if (input.tapMerkleRoot || input.tapLeafScript || input.tapScriptSig) {
    return refused(index, 'script-path', 'it carries taproot script-path data; the group spends by its key path only');
  }
  if (input.redeemScript || input.witnessScript) {
    return refused(index, 'inconsistent-metadata', 'it carries a redeem or witness script, which a taproot key-path spend has none of');
  }
  const sighashType = input.sighashType ?? SIGHASH_DEFAULT;
  const sighash = sighashRefusal(index, sighashType, options);
  if (sighash) return sighash;
  const foreign = foreignMusig(input, keys, key);
  if (foreign) return refused(index, 'foreign-musig-fields', foreign);
  return { index, status: 'ours', key, sighashType, amount: utxo.amount };
}

/** Every input of the PSBT, in order: spent by this group's key path, or refused with a reason. */
export function classifyInputs(imported: ImportedPsbt, keys: GroupKeys, options: ClassifyOptions = {}): InputClass[] {
  const out: InputClass[] = [];
  for (let index = 0; index < imported.tx.inputsLength; index++) out.push(classifyInput(imported.tx, index, keys, options));
  return out;
}
