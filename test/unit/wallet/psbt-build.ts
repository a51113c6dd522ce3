/**
 * Test-only: a spend from a 3-signer group built with @scure/btc-signer (the way a watch-only wallet
 * holding the group's descriptors would build it), the signers' rounds simulated over the wallet's
 * signing API, and the BIP373 fields written as another tool writes them: with the PSBT engine.
 * The builders shared with the session tests are in test/support/psbt-fixtures.ts.
 */
import { bytesToHex as hex } from '@noble/hashes/utils.js';
import { base64 } from '@scure/base';
import { Transaction } from '@scure/btc-signer';
import type { SecretNonce } from '../../../main/musig/index.ts';
import type { DerivedGroupKey } from '../../../main/wallet/bip328.ts';
import { groupKeyAgg } from '../../../main/wallet/group.ts';
import { GroupKeys } from '../../../main/wallet/group-keys.ts';
import { SIGHASH_DEFAULT } from '../../../main/wallet/psbt-sighash.ts';
import { makePsbtNonces, PsbtSigningBatch, type FinalTransaction, type PsbtSigningPlan } from '../../../main/wallet/psbt-signing.ts';
import { bytes32, cosigners, tapDerivation, taprootScript } from '../../support/psbt-fixtures.ts';

export { taprootScript, verifyWithBitcoinJs, virtualSizeOf } from '../../support/psbt-fixtures.ts';

export const signers = cosigners(3, 'psbt-test');
export const keys = new GroupKeys(groupKeyAgg(signers.map((s) => hex(s.publicKey))));
/** A key outside the group (someone else's taproot output, and the payee). */
export const stranger = cosigners(1, 'stranger')[0]!;

export function derivation(key: DerivedGroupKey) {
  return tapDerivation(keys, key);
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
 * The BIP373 fields written with the PSBT engine's own updater (@scure/btc-signer's updateInput):
 * what another BIP373 tool writes, and the reference the wallet's raw-map copy (Bip373Copy) must
 * equal. Signers are named by their position in the plan's participants.
 */
export const engine = {
  /** PSBT_IN_MUSIG2_PARTICIPANT_PUBKEYS on every input, and its taproot internal key where missing. */
  participants(tx: Transaction, plan: PsbtSigningPlan): void {
    for (const input of plan.inputs) {
      tx.updateInput(input.index, {
        musig2ParticipantPubkeys: [[plan.aggregateKey, [...plan.participants]]],
        ...(tx.getInput(input.index).tapInternalKey ? {} : { tapInternalKey: input.key.internalKey }),
      });
    }
  },
  pubNonces(tx: Transaction, plan: PsbtSigningPlan, position: number, publicNonces: readonly Uint8Array[]): void {
    const participantPubkey = plan.participants[position]!;
    plan.inputs.forEach((input, i) =>
      tx.updateInput(input.index, {
        musig2PubNonce: [[{ participantPubkey, aggregatePubkey: input.key.signingCtx.aggregateKey }, publicNonces[i]!]],
      }),
    );
  },
  partialSigs(tx: Transaction, plan: PsbtSigningPlan, position: number, partialSigs: readonly Uint8Array[]): void {
    const participantPubkey = plan.participants[position]!;
    plan.inputs.forEach((input, i) =>
      tx.updateInput(input.index, {
        musig2PartialSig: [[{ participantPubkey, aggregatePubkey: input.key.signingCtx.aggregateKey }, partialSigs[i]!]],
      }),
    );
  },
  /** Every nonce and partial signature removed. */
  clear(tx: Transaction, plan: PsbtSigningPlan): void {
    for (const input of plan.inputs) tx.updateInput(input.index, { musig2PubNonce: undefined, musig2PartialSig: undefined });
  },
  /** The aggregate signatures into PSBT_IN_TAP_KEY_SIG (with a non-default sighash byte); inputs already signed are left. */
  signatures(tx: Transaction, plan: PsbtSigningPlan, signatures: readonly Uint8Array[]): void {
    plan.inputs.forEach((input, i) => {
      if (input.signed) return;
      const signature = signatures[i]!;
      tx.updateInput(input.index, {
        tapKeySig: input.sighashType === SIGHASH_DEFAULT ? signature : Uint8Array.from([...signature, input.sighashType]),
      });
    });
  },
  /** The PSBT engine's own BIP174 finalizer and extractor. */
  finalize(tx: Transaction): FinalTransaction {
    tx.finalize();
    const rawTx = tx.extract();
    const psbt = tx.toPSBT();
    return { psbt, psbtBase64: base64.encode(psbt), rawTx, rawTxHex: hex(rawTx), txid: tx.id };
  },
};

/**
 * The two MuSig2 rounds of all three signers, each working from its own plan, with the creator's
 * PSBT copy receiving every BIP373 field as the rounds progress. Returns the final signatures.
 */
export function runRounds(tx: Transaction, plans: readonly PsbtSigningPlan[], tamper?: (partials: Uint8Array[][]) => void): Uint8Array[] {
  const creatorPlan = plans[0]!;
  engine.participants(tx, creatorPlan);
  const nonces: Uint8Array[][] = [];
  const secrets: SecretNonce[][] = [];
  signers.forEach((s, n) => {
    const i = indexOf(s.publicKey);
    const made = makePsbtNonces(plans[n]!, s.secretKey, (input) => bytes32(`session/${input}`));
    nonces[i] = made.publicNonces;
    secrets[i] = made.secretNonces;
  });
  nonces.forEach((list, i) => engine.pubNonces(tx, creatorPlan, i, list));
  const partials: Uint8Array[][] = [];
  signers.forEach((s, n) => {
    const i = indexOf(s.publicKey);
    partials[i] = new PsbtSigningBatch(plans[n]!.inputs, nonces).sign(i, s.secretKey, secrets[i]!);
  });
  tamper?.(partials);
  partials.forEach((list, i) => engine.partialSigs(tx, creatorPlan, i, list));
  return new PsbtSigningBatch(creatorPlan.inputs, nonces).aggregate(partials);
}
