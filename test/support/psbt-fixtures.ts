/**
 * Test-only PSBT builders shared by the wallet and session tests: deterministic co-signers, spends
 * from a group built with @scure/btc-signer (the way a watch-only wallet holding the group's
 * descriptors would build them), and an independent check of a signed transaction with
 * bitcoinjs-lib and tiny-secp256k1.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { OutScript, Transaction } from '@scure/btc-signer';
import * as bitcoin from 'bitcoinjs-lib';
import * as ecc from 'tiny-secp256k1';
import { publicKeyOf } from '../../main/musig/index.ts';
import type { DerivedGroupKey } from '../../main/wallet/bip328.ts';
import type { GroupKeys } from '../../main/wallet/group-keys.ts';

/** n deterministic co-signers: secret keys from a label, with their compressed public keys. */
export function cosigners(n: number, label = 'cosigner'): { secretKey: Uint8Array; publicKey: Uint8Array }[] {
  return Array.from({ length: n }, (_, i) => {
    const secretKey = sha256(utf8ToBytes(`${label}/${i}`));
    return { secretKey, publicKey: publicKeyOf(secretKey) };
  });
}

/** Deterministic 32-byte values for nonce `rand` and txids. */
export function bytes32(label: string): Uint8Array {
  return sha256(utf8ToBytes(label));
}

export function taprootScript(outputKey: Uint8Array): Uint8Array {
  return OutScript.encode({ type: 'tr', pubkey: outputKey });
}

/** The PSBT_{IN,OUT}_TAP_BIP32_DERIVATION a wallet writes for a BIP328 child of the group. */
export function tapDerivation(keys: GroupKeys, key: DerivedGroupKey) {
  return [[key.internalKey, { hashes: [], der: { fingerprint: keys.fingerprint, path: [...key.path] } }]] as [
    Uint8Array,
    { hashes: Uint8Array[]; der: { fingerprint: number; path: number[] } },
  ][];
}

export type SpendInput =
  /** An output of the group: its own key (path []) or a BIP328 child. */
  | { path: readonly number[]; amount: bigint }
  /** Someone else's taproot output. */
  | { outputKey: Uint8Array; amount: bigint };

export type SpendOutput =
  | { outputKey: Uint8Array; amount: bigint }
  /** Change back to the group's BIP328 child at this path. */
  | { changePath: readonly number[]; amount: bigint };

/**
 * A spend built as a watch-only wallet would: inputs with their witness UTXO, taproot internal key
 * and (for a child) its derivation; outputs to strangers, and change with its derivation.
 * Input i spends outpoint (sha256(`${label}/i`), i).
 */
export function spendFrom(keys: GroupKeys, inputs: readonly SpendInput[], outputs: readonly SpendOutput[], label = 'prev'): Transaction {
  const tx = new Transaction({ allowUnknownOutputs: true });
  inputs.forEach((input, i) => {
    const common = { txid: bytes32(`${label}/${i}`), index: i };
    if ('outputKey' in input) {
      tx.addInput({ ...common, witnessUtxo: { script: taprootScript(input.outputKey), amount: input.amount } });
      return;
    }
    const key = keys.derive(input.path);
    tx.addInput({
      ...common,
      witnessUtxo: { script: taprootScript(key.outputKey), amount: input.amount },
      tapInternalKey: key.internalKey,
      ...(key.path.length > 0 ? { tapBip32Derivation: tapDerivation(keys, key) } : {}),
    });
  });
  for (const output of outputs) {
    if ('outputKey' in output) {
      tx.addOutput({ script: taprootScript(output.outputKey), amount: output.amount });
      continue;
    }
    const key = keys.derive(output.changePath);
    tx.addOutput({
      script: taprootScript(key.outputKey),
      amount: output.amount,
      tapInternalKey: key.internalKey,
      tapBip32Derivation: tapDerivation(keys, key),
    });
  }
  return tx;
}

/** The script and amount every input of `tx` spends (what BIP341 commits to). */
export function spentOutputs(tx: Transaction): { script: Uint8Array; amount: bigint }[] {
  return Array.from({ length: tx.inputsLength }, (_, i) => {
    const utxo = tx.getInput(i).witnessUtxo;
    if (!utxo) throw new Error(`input ${i} has no witness UTXO`);
    return { script: utxo.script, amount: utxo.amount };
  });
}

/**
 * Checks every input's key-path signature of a raw transaction with a different implementation:
 * bitcoinjs-lib computes the BIP341 sighash, tiny-secp256k1 verifies the BIP340 signature under the
 * output key read from the spent script.
 */
export function verifyWithBitcoinJs(rawTxHex: string, prevouts: { script: Uint8Array; amount: bigint }[]): boolean[] {
  const btx = bitcoin.Transaction.fromHex(rawTxHex);
  return btx.ins.map((input, i) => {
    const witness = input.witness;
    if (witness.length !== 1) return false;
    const sig = witness[0]!;
    const hashType = sig.length === 65 ? sig[64]! : bitcoin.Transaction.SIGHASH_DEFAULT;
    const sighash = btx.hashForWitnessV1(
      i,
      prevouts.map((p) => p.script),
      prevouts.map((p) => p.amount),
      hashType,
    );
    return ecc.verifySchnorr(sighash, prevouts[i]!.script.subarray(2), sig.subarray(0, 64));
  });
}

export function virtualSizeOf(rawTxHex: string): { vsize: number; weight: number; txid: string } {
  const btx = bitcoin.Transaction.fromHex(rawTxHex);
  return { vsize: btx.virtualSize(), weight: btx.weight(), txid: btx.getId() };
}
