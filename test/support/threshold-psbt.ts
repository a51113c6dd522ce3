/**
 * Test-only: spends of a threshold group's outputs built with @scure/btc-signer and the wallet's
 * BIP371 fields (psbt-path-fields.ts), the MuSig2 rounds of a path's signers run over the wallet's
 * signing API (each signer planning from its own import, the creator's BIP373 copy taking every
 * field), and bitcoinjs-lib's own view of a final transaction: its outputs, leaf hashes, control
 * blocks and signature hashes, checked with tiny-secp256k1.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { Transaction } from '@scure/btc-signer';
import * as bitcoin from 'bitcoinjs-lib';
import { tapleafHash } from 'bitcoinjs-lib/src/payments/bip341';
import * as ecc from 'tiny-secp256k1';
import type { SecretNonce } from '../../main/musig/index.ts';
import { Bip373Copy } from '../../main/wallet/bip373-copy.ts';
import { pathInputFields, pathOutputFields } from '../../main/wallet/psbt-path-fields.ts';
import { makePsbtNonces, PsbtSigningBatch, type PsbtSigningPlan } from '../../main/wallet/psbt-signing.ts';
import { SpendKeys } from '../../main/wallet/spend-keys.ts';
import type { SpendPath } from '../../main/wallet/spend-path.ts';
import { GroupOutputs } from '../../main/wallet/threshold.ts';
import type { GroupPolicy } from '../../main/wallet/threshold-policy.ts';
import { bytes32, cosigners, taprootScript } from './psbt-fixtures.ts';

bitcoin.initEccLib(ecc);

export type Cosigner = { secretKey: Uint8Array; publicKey: Uint8Array };

/** A 2-of-3 group with a recovery path after `olderBlocks` blocks: one key, or a MuSig2 set of `recoveryKeys`. */
export function thresholdGroup(label: string, olderBlocks = 144, recoveryKeys = 1) {
  const members = cosigners(3, `${label}/member`);
  const recoverers = cosigners(recoveryKeys, `${label}/recovery`);
  const recovery = recoverers[0] as Cosigner;
  const policy: GroupPolicy = { kind: 'k-of-n', k: 2, recovery: { keys: recoverers.map((r) => bytesToHex(r.publicKey)), olderBlocks } };
  const memberKeys = members.map((m) => bytesToHex(m.publicKey));
  /** A fresh SpendKeys: each signer derives everything itself. */
  const spendKeys = () => new SpendKeys(new GroupOutputs(memberKeys, policy), 'regtest');
  return { members, recovery, recoverers, policy, memberKeys, spendKeys };
}

/** Someone else's taproot key. */
const PAYEE = (cosigners(1, 'threshold-payee')[0] as Cosigner).publicKey.subarray(1);

export interface ThresholdSpend {
  readonly derivations: readonly (readonly number[])[];
  readonly amounts: readonly bigint[];
  readonly change: readonly number[];
}

export const SPEND: ThresholdSpend = {
  derivations: [
    [0, 3],
    [1, 5],
    [0, 9],
  ],
  amounts: [80_000n, 40_000n, 25_000n],
  change: [1, 6],
};

/** Inputs at `spend.derivations`, spent along `path`; a payment and change to the group. */
export function thresholdSpend(spend: SpendKeys, path: SpendPath, shape: ThresholdSpend = SPEND, label = 'threshold-prev'): Transaction {
  const tx = new Transaction({ allowUnknownOutputs: true, version: 2 });
  shape.derivations.forEach((derivation, i) => {
    const { fields, sequence } = pathInputFields(spend, derivation, path);
    tx.addInput({
      txid: bytes32(`${label}/${i}`),
      index: i,
      witnessUtxo: { script: taprootScript(spend.at(derivation).outputKey), amount: shape.amounts[i] as bigint },
      sequence: sequence ?? 0xfffffffd,
      ...fields,
    });
  });
  const total = shape.amounts.reduce((a, b) => a + b, 0n);
  tx.addOutput({ script: taprootScript(PAYEE), amount: total / 2n });
  tx.addOutput({
    script: taprootScript(spend.at(shape.change).outputKey),
    amount: total / 2n - 2_000n,
    ...pathOutputFields(spend, shape.change),
  });
  return tx;
}

/** The signers of a plan with their secret keys, in the plan's (KeySort) order. */
export function signersOf(plan: PsbtSigningPlan, people: readonly Cosigner[]): Cosigner[] {
  return plan.participants.map((p) => people.find((c) => bytesToHex(c.publicKey) === bytesToHex(p)) as Cosigner);
}

/**
 * Both MuSig2 rounds of a plan's signers, each from its own plan (`plans[i]`, participant i's), the
 * creator's copy (participant 0's) taking every nonce and partial signature. The final signatures.
 */
export function runPathRounds(
  psbt: Uint8Array,
  plans: readonly PsbtSigningPlan[],
  people: readonly Cosigner[],
): { signatures: Uint8Array[]; copy: Bip373Copy } {
  const creator = plans[0] as PsbtSigningPlan;
  const copy = new Bip373Copy(psbt, creator);
  const signers = signersOf(creator, people);
  const nonces: Uint8Array[][] = [];
  const secrets: SecretNonce[][] = [];
  signers.forEach((s, i) => {
    const made = makePsbtNonces(plans[i] as PsbtSigningPlan, s.secretKey, (input) => bytes32(`threshold-session/${input}`));
    nonces[i] = made.publicNonces;
    secrets[i] = made.secretNonces;
    copy.setPubNonces(i, made.publicNonces);
  });
  const partials = signers.map((s, i) =>
    new PsbtSigningBatch((plans[i] as PsbtSigningPlan).inputs, nonces).sign(i, s.secretKey, secrets[i] as SecretNonce[]),
  );
  partials.forEach((list, i) => copy.setPartialSigs(i, list));
  return { signatures: new PsbtSigningBatch(creator.inputs, nonces).aggregate(partials), copy };
}

/** bitcoinjs-lib's tree of four leaves in the balanced shape GROUPS.md documents: {{0,1},{2,3}}. */
export function scriptTree(scripts: readonly Uint8Array[]) {
  const leaf = (i: number) => ({ output: scripts[i] as Uint8Array });
  return [
    [leaf(0), leaf(1)],
    [leaf(2), leaf(3)],
  ] as [[{ output: Uint8Array }, { output: Uint8Array }], [{ output: Uint8Array }, { output: Uint8Array }]];
}

/**
 * Per input of a final transaction, whether bitcoinjs-lib and tiny-secp256k1 accept it: the spent
 * output is bitcoinjs-lib's p2tr of the group's internal key and tree; a key-path witness [sig]
 * verifies under its output key, a leaf witness [sig, script, control block] has bitcoinjs-lib's
 * control block for that script and verifies under the script's key, with the BIP342 message of
 * bitcoinjs-lib's leaf hash.
 */
export function verifyThresholdSpend(
  rawTxHex: string,
  spend: SpendKeys,
  derivations: readonly (readonly number[])[],
  amounts: readonly bigint[],
): boolean[] {
  const tx = bitcoin.Transaction.fromHex(rawTxHex);
  const outputs = derivations.map((d) => spend.at(d));
  const scripts = outputs.map((o) => taprootScript(o.outputKey));
  return tx.ins.map((input, i) => {
    const output = outputs[i]!;
    const witness = input.witness;
    const tree = scriptTree(output.leaves.map((l) => l.script));
    if (witness.length === 1) {
      const pay = bitcoin.payments.p2tr({ internalPubkey: output.internalKey, scriptTree: tree, network: bitcoin.networks.regtest });
      const hash = tx.hashForWitnessV1(i, scripts, [...amounts], bitcoin.Transaction.SIGHASH_DEFAULT);
      return bytesToHex(pay.output!) === bytesToHex(scripts[i]!) && ecc.verifySchnorr(hash, pay.pubkey!, witness[0]!);
    }
    const [signature, script, controlBlock] = witness as [Uint8Array, Uint8Array, Uint8Array];
    const pay = bitcoin.payments.p2tr({
      internalPubkey: output.internalKey,
      scriptTree: tree,
      redeem: { output: script, redeemVersion: 0xc0 },
      network: bitcoin.networks.regtest,
    });
    const theirs = pay.witness!;
    const leafHash = tapleafHash({ output: script, version: 0xc0 });
    const hash = tx.hashForWitnessV1(i, scripts, [...amounts], bitcoin.Transaction.SIGHASH_DEFAULT, leafHash);
    const [scriptKey] = bitcoin.script.decompile(script) as [Uint8Array];
    return (
      witness.length === 3 &&
      bytesToHex(pay.output!) === bytesToHex(scripts[i]!) &&
      bytesToHex(theirs[theirs.length - 1]!) === bytesToHex(controlBlock) &&
      ecc.verifySchnorr(hash, scriptKey, signature)
    );
  });
}
