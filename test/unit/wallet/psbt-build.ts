/**
 * Test-only: a spend from a 3-signer group built with @scure/btc-signer (the way a watch-only wallet
 * holding the group's descriptors would build it), the signers' rounds simulated over the wallet's
 * signing API, and an independent check of the result with bitcoinjs-lib and tiny-secp256k1.
 */
import { bytesToHex as hex } from '@noble/hashes/utils.js';
import { OutScript, Transaction } from '@scure/btc-signer';
import * as bitcoin from 'bitcoinjs-lib';
import * as ecc from 'tiny-secp256k1';
import type { SecretNonce } from '../../../main/musig/index.ts';
import type { DerivedGroupKey } from '../../../main/wallet/bip328.ts';
import { groupKeyAgg } from '../../../main/wallet/group.ts';
import { GroupKeys } from '../../../main/wallet/group-keys.ts';
import {
  makePsbtNonces,
  PsbtSigningBatch,
  writePartialSigs,
  writeParticipants,
  writePubNonces,
  type PsbtSigningPlan,
} from '../../../main/wallet/psbt-signing.ts';
import { bytes32, cosigners } from './psbt-fixtures.ts';

export const signers = cosigners(3, 'psbt-test');
export const keys = new GroupKeys(groupKeyAgg(signers.map((s) => hex(s.publicKey))));
/** A key outside the group (someone else's taproot output, and the payee). */
export const stranger = cosigners(1, 'stranger')[0]!;

export function taprootScript(outputKey: Uint8Array): Uint8Array {
  return OutScript.encode({ type: 'tr', pubkey: outputKey });
}

export function derivation(key: DerivedGroupKey) {
  return [[key.internalKey, { hashes: [], der: { fingerprint: keys.fingerprint, path: [...key.path] } }]] as [
    Uint8Array,
    { hashes: Uint8Array[]; der: { fingerprint: number; path: number[] } },
  ][];
}

export const RECEIVE_3 = [0, 3];
export const CHANGE_0 = [1, 0];
export const AMOUNTS = [100_000n, 50_000n, 25_000n];
export const PAYMENT = 120_000n;
export const CHANGE = 50_000n;

/**
 * Two inputs to the group's own address, one to its BIP328 receive key 0/3 (with
 * PSBT_IN_TAP_BIP32_DERIVATION); a payment to a stranger and change to the BIP328 key 1/0.
 */
export function spendTx(): Transaction {
  const tx = new Transaction({ allowUnknownOutputs: true });
  const receive = keys.derive(RECEIVE_3);
  const change = keys.derive(CHANGE_0);
  tx.addInput({
    txid: bytes32('prev/0'),
    index: 0,
    witnessUtxo: { script: taprootScript(keys.base.outputKey), amount: AMOUNTS[0]! },
    tapInternalKey: keys.base.internalKey,
  });
  tx.addInput({ txid: bytes32('prev/1'), index: 3, witnessUtxo: { script: taprootScript(keys.base.outputKey), amount: AMOUNTS[1]! } });
  tx.addInput({
    txid: bytes32('prev/2'),
    index: 1,
    witnessUtxo: { script: taprootScript(receive.outputKey), amount: AMOUNTS[2]! },
    tapInternalKey: receive.internalKey,
    tapBip32Derivation: derivation(receive),
  });
  tx.addOutput({ script: taprootScript(stranger.publicKey.subarray(1)), amount: PAYMENT });
  tx.addOutput({
    script: taprootScript(change.outputKey),
    amount: CHANGE,
    tapInternalKey: change.internalKey,
    tapBip32Derivation: derivation(change),
  });
  return tx;
}

/** Signer index of each test signer: its position among the group's sorted keys. */
export function indexOf(publicKey: Uint8Array): number {
  return keys.group.publicKeys.findIndex((k) => hex(k) === hex(publicKey));
}

/**
 * The two MuSig2 rounds of all three signers, each working from its own plan, with the creator's
 * PSBT copy receiving every BIP373 field as the rounds progress. Returns the final signatures.
 */
export function runRounds(tx: Transaction, plans: readonly PsbtSigningPlan[], tamper?: (partials: Uint8Array[][]) => void): Uint8Array[] {
  const creatorPlan = plans[0]!;
  writeParticipants(tx, creatorPlan);
  const nonces: Uint8Array[][] = [];
  const secrets: SecretNonce[][] = [];
  signers.forEach((s, n) => {
    const i = indexOf(s.publicKey);
    const made = makePsbtNonces(plans[n]!, s.secretKey, (input) => bytes32(`session/${input}`));
    nonces[i] = made.publicNonces;
    secrets[i] = made.secretNonces;
  });
  nonces.forEach((list, i) => writePubNonces(tx, creatorPlan, i, list));
  const partials: Uint8Array[][] = [];
  signers.forEach((s, n) => {
    const i = indexOf(s.publicKey);
    partials[i] = new PsbtSigningBatch(plans[n]!.inputs, nonces).sign(i, s.secretKey, secrets[i]!);
  });
  tamper?.(partials);
  partials.forEach((list, i) => writePartialSigs(tx, creatorPlan, i, list));
  return new PsbtSigningBatch(creatorPlan.inputs, nonces).aggregate(partials);
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
