/**
 * Hostile PSBTs: each is refused with a clear reason before anything is signed, or (a lying amount
 * that nobody can detect from the PSBT alone) yields signatures the network rejects.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { base64 } from '@scure/base';
import { RawTx } from '@scure/btc-signer/script.js';
import { Transaction } from '@scure/btc-signer';
import { describe, expect, it } from 'vitest';
import { importPsbt, type ImportedPsbt } from '../../../main/wallet/psbt-import.ts';
import { readPsbtMaps } from '../../../main/wallet/psbt-maps.ts';
import { PSBT_IN_MUSIG2_PUB_NONCE } from '../../../main/wallet/bip373.ts';
import { reviewPsbt } from '../../../main/wallet/psbt-review.ts';
import { finalizeKeyPath } from '../../../main/wallet/psbt-finalize.ts';
import { assertApproved, planPsbtSigning } from '../../../main/wallet/psbt-signing.ts';
import {
  AMOUNTS,
  derivation,
  keys,
  RECEIVE_3,
  runRounds,
  signers,
  spendTx,
  stranger,
  taprootScript,
  verifyWithBitcoinJs,
} from './psbt-build.ts';
import { bytes32, cosigners, writePsbtMaps } from './psbt-fixtures.ts';

const attacker = cosigners(1, 'attacker')[0]!;

function approvedDigest(): string {
  return reviewPsbt(importPsbt(spendTx().toPSBT(0)), keys, 'regtest').digest!;
}

function refusal(imported: ImportedPsbt, options = {}): { code: string; context: Record<string, unknown>; message: string } {
  try {
    planPsbtSigning(imported, keys, options);
  } catch (e) {
    return e as { code: string; context: Record<string, unknown>; message: string };
  }
  throw new Error('the PSBT was accepted for signing');
}

const realPrevouts = [
  { script: taprootScript(keys.base.outputKey), amount: AMOUNTS[0]! },
  { script: taprootScript(keys.base.outputKey), amount: AMOUNTS[1]! },
  { script: taprootScript(keys.derive(RECEIVE_3).outputKey), amount: AMOUNTS[2]! },
];

describe('hostile PSBTs', () => {
  it('an output swapped after approval: another digest and other messages, refused before signing', () => {
    const approved = approvedDigest();
    const original = planPsbtSigning(importPsbt(spendTx().toPSBT(0)), keys);
    const tx = spendTx();
    tx.updateOutput(0, { script: taprootScript(attacker.publicKey.subarray(1)) });
    const swapped = importPsbt(tx.toPSBT(0));
    const review = reviewPsbt(swapped, keys, 'regtest');
    expect(review.digest).not.toBe(approved);
    const plan = planPsbtSigning(swapped, keys);
    expect(plan.messages.map(bytesToHex)).not.toEqual(expect.arrayContaining(original.messages.map(bytesToHex)));
    expect(() => assertApproved(plan, approved)).toThrow(expect.objectContaining({ code: 'PSBT_MISMATCH' }));
    // The untouched PSBT passes the same check.
    expect(() => assertApproved(original, approved)).not.toThrow();
  });

  it('an input that is not ours: refused with its reason, nothing signed', () => {
    const tx = spendTx();
    tx.addInput({
      txid: bytes32('prev/x'),
      index: 0,
      witnessUtxo: { script: taprootScript(stranger.publicKey.subarray(1)), amount: 9_000n },
    });
    const imported = importPsbt(tx.toPSBT(0));
    const review = reviewPsbt(imported, keys, 'regtest');
    expect(review.signable).toBe(false);
    expect(review.inputs[3]!.refusal).toEqual({
      code: 'not-ours',
      reason: expect.stringMatching(/neither this group's key nor a verified derivation/),
    });
    const e = refusal(imported);
    expect(e.code).toBe('PSBT_REFUSED');
    expect(e.context).toMatchObject({ input: 3, code: 'not-ours', refused: 1 });
    expect(e.message).toMatch(/^nothing is signed: input 3: /);
  });

  it("an input whose derivation claim names the group's fingerprint but not its key: not ours", () => {
    const tx = spendTx();
    tx.addInput({
      txid: bytes32('prev/claim'),
      index: 0,
      witnessUtxo: { script: taprootScript(stranger.publicKey.subarray(1)), amount: 9_000n },
      tapBip32Derivation: derivation(keys.derive(RECEIVE_3)),
    });
    expect(refusal(importPsbt(tx.toPSBT(0))).context).toMatchObject({ input: 3, code: 'not-ours' });
  });

  it("an input whose internal key is not the one behind its output key: refused, naming the input ('inconsistent-metadata')", () => {
    const tx = new Transaction({ disableScriptCheck: true });
    tx.addInput({
      txid: bytes32('prev/0'),
      index: 0,
      witnessUtxo: { script: taprootScript(keys.base.outputKey), amount: 10_000n },
      tapInternalKey: stranger.publicKey.subarray(1),
    });
    tx.addOutput({ script: taprootScript(stranger.publicKey.subarray(1)), amount: 9_000n });
    const psbt = tx.toPSBT(0);
    // classifyInputs checks the taproot commitment against the derived key (the import leaves it to it).
    expect(refusal(importPsbt(psbt)).context).toMatchObject({ input: 0, code: 'inconsistent-metadata', refused: 1 });
  });

  it("an input of the group that carries a redeem or witness script: refused, naming the input ('inconsistent-metadata')", () => {
    for (const field of ['redeemScript', 'witnessScript'] as const) {
      const tx = new Transaction({ disableScriptCheck: true });
      tx.addInput({
        txid: bytes32('prev/0'),
        index: 0,
        witnessUtxo: { script: taprootScript(keys.base.outputKey), amount: 10_000n },
        tapInternalKey: keys.base.internalKey,
        [field]: Uint8Array.of(0x51),
      });
      tx.addOutput({ script: taprootScript(stranger.publicKey.subarray(1)), amount: 9_000n });
      const imported = importPsbt(tx.toPSBT(0));
      expect(reviewPsbt(imported, keys, 'regtest').inputs[0]!.refusal?.code).toBe('inconsistent-metadata');
      expect(refusal(imported).context).toMatchObject({ input: 0, code: 'inconsistent-metadata', refused: 1 });
    }
  });

  describe('a wrong amount in the UTXO data', () => {
    // The creator understates input 0 (100 000 sat) so the fee looks like 1 000 sat; it would be 5 000.
    const LIE = 96_000n;

    it('changed after approval: the review and the digest differ, refused', () => {
      const approved = approvedDigest();
      const tx = spendTx();
      tx.updateInput(0, { witnessUtxo: { script: taprootScript(keys.base.outputKey), amount: LIE } });
      const imported = importPsbt(tx.toPSBT(0));
      const review = reviewPsbt(imported, keys, 'regtest');
      expect(review.fee).toBe(1_000);
      expect(() => assertApproved(planPsbtSigning(imported, keys), approved)).toThrow(expect.objectContaining({ code: 'PSBT_MISMATCH' }));
    });

    it('believed by every signer: the signatures commit to the lie (BIP341), so the real spend is invalid', () => {
      const tx = spendTx();
      tx.updateInput(0, { witnessUtxo: { script: taprootScript(keys.base.outputKey), amount: LIE } });
      const psbt = base64.encode(tx.toPSBT(0));
      const plans = signers.map(() => planPsbtSigning(importPsbt(psbt), keys));
      const creator = importPsbt(psbt);
      const final = finalizeKeyPath(creator.bytes, creator.tx, plans[0]!, runRounds(creator.tx, plans));
      // Against the coins actually spent, no input's signature verifies: the transaction is invalid.
      expect(verifyWithBitcoinJs(final.rawTxHex, realPrevouts)).toEqual([false, false, false]);
      // (They verify only against the lie, which is not what the chain holds.)
      const lied = realPrevouts.map((p, i) => (i === 0 ? { ...p, amount: LIE } : p));
      expect(verifyWithBitcoinJs(final.rawTxHex, lied)).toEqual([true, true, true]);
    });

    it('contradicted by the previous transaction in the PSBT: refused at import', () => {
      const prev = RawTx.encode({
        version: 2,
        segwitFlag: false,
        inputs: [{ txid: bytes32('grandparent'), index: 0, finalScriptSig: new Uint8Array(), sequence: 0xffffffff }],
        outputs: [{ script: taprootScript(keys.base.outputKey), amount: 100_000n }],
        lockTime: 0,
      });
      const tx = new Transaction();
      const prevId = Transaction.fromRaw(prev, { allowUnknownOutputs: true }).id;
      tx.addInput({
        txid: prevId,
        index: 0,
        nonWitnessUtxo: prev,
        witnessUtxo: { script: taprootScript(keys.base.outputKey), amount: 100_000n },
      });
      tx.addOutput({ script: taprootScript(stranger.publicKey.subarray(1)), amount: 99_000n });
      expect(planPsbtSigning(importPsbt(tx.toPSBT(0)), keys).inputs).toHaveLength(1);
      // Lower the witness amount only, in the raw maps (no library would write this).
      const maps = readPsbtMaps(tx.toPSBT(0));
      const inputs = maps.inputs.map((m) =>
        m.map((e) =>
          e.keyType === 0x01
            ? { ...e, value: Uint8Array.from([...new Uint8Array([0x10, 0x27, 0, 0, 0, 0, 0, 0]), ...e.value.slice(8)]) }
            : e,
        ),
      );
      expect(() => importPsbt(writePsbtMaps({ ...maps, inputs }))).toThrow(
        expect.objectContaining({ code: 'INVALID_PSBT', message: expect.stringMatching(/witnessUtxo different from nonWitnessUtxo/) }),
      );
    });
  });

  describe('a malformed or foreign BIP373 field', () => {
    function withNonces(): Uint8Array {
      const psbt = base64.encode(spendTx().toPSBT(0));
      const plans = signers.map(() => planPsbtSigning(importPsbt(psbt), keys));
      const creator = importPsbt(psbt);
      runRounds(creator.tx, plans);
      return creator.tx.toPSBT();
    }

    it('a public nonce one byte short: refused at import, naming input and field', () => {
      const maps = readPsbtMaps(withNonces());
      let done = false;
      const inputs = maps.inputs.map((m, i) =>
        m.map((e) => {
          if (i !== 1 || done || e.keyType !== PSBT_IN_MUSIG2_PUB_NONCE) return e;
          done = true;
          return { ...e, value: e.value.slice(0, 65) };
        }),
      );
      expect(() => importPsbt(writePsbtMaps({ ...maps, inputs }))).toThrow(
        expect.objectContaining({
          code: 'INVALID_PSBT',
          message: 'input 1: PSBT_IN_MUSIG2_PUB_NONCE: the public nonce is 65 bytes, not 66',
          context: expect.objectContaining({ input: 1, field: 'PSBT_IN_MUSIG2_PUB_NONCE' }),
        }),
      );
    });

    it('a participant list in another order than KeySort: refused as not this group', () => {
      const tx = spendTx();
      tx.updateInput(0, { musig2ParticipantPubkeys: [[keys.group.aggregateKey, [...keys.group.publicKeys].reverse()]] });
      expect(refusal(importPsbt(tx.toPSBT(0))).context).toMatchObject({ input: 0, code: 'foreign-musig-fields' });
    });

    it('a nonce from a key outside the group, or for another key: refused', () => {
      const outsider = spendTx();
      const offCurve = Uint8Array.from([0x02, ...new Uint8Array(32).fill(0xff), 0x02, ...new Uint8Array(32).fill(0xff)]);
      outsider.updateInput(2, {
        musig2PubNonce: [
          [{ participantPubkey: stranger.publicKey, aggregatePubkey: keys.derive(RECEIVE_3).signingCtx.aggregateKey }, offCurve],
        ],
      });
      // (x = 2^256 - 1 is no point: the BIP373 layer stops it before the policy does.)
      expect(() => importPsbt(outsider.toPSBT(0))).toThrow(/first nonce point is not a point on secp256k1/);
      const nonce = readPsbtMaps(withNonces()).inputs[0]!.find((e) => e.keyType === PSBT_IN_MUSIG2_PUB_NONCE)!.value;
      const stranger2 = spendTx();
      stranger2.updateInput(2, {
        musig2PubNonce: [
          [{ participantPubkey: stranger.publicKey, aggregatePubkey: keys.derive(RECEIVE_3).signingCtx.aggregateKey }, nonce],
        ],
      });
      expect(refusal(importPsbt(stranger2.toPSBT(0))).context).toMatchObject({ input: 2, code: 'foreign-musig-fields' });
      const otherKey = spendTx();
      otherKey.updateInput(2, {
        musig2PubNonce: [[{ participantPubkey: keys.group.publicKeys[0]!, aggregatePubkey: keys.base.signingCtx.aggregateKey }, nonce]],
      });
      expect(refusal(importPsbt(otherKey.toPSBT(0))).message).toMatch(/nonces or partial signatures for another key/);
    });
  });

  it('a non-default sighash: refused unless allowed; an undefined one always', () => {
    const tx = spendTx();
    tx.updateInput(1, { sighashType: 0x81 });
    const imported = importPsbt(tx.toPSBT(0));
    expect(refusal(imported).context).toMatchObject({ input: 1, code: 'sighash-not-allowed' });
    expect(refusal(imported).message).toMatch(/ALL\|ANYONECANPAY/);
    const allowed = reviewPsbt(imported, keys, 'regtest', { allowNonDefaultSighash: true, localAllowsNonDefaultSighash: true });
    expect(allowed.signable).toBe(true);
    expect(allowed.warnings).toContain('non-default-sighash');
    expect(allowed.inputs[1]!.sighash).toBe('ALL|ANYONECANPAY');
    const undefinedType = spendTx();
    undefinedType.updateInput(1, { sighashType: 0x04 });
    expect(
      refusal(importPsbt(undefinedType.toPSBT(0)), { allowNonDefaultSighash: true, localAllowsNonDefaultSighash: true }).context,
    ).toMatchObject({ input: 1, code: 'invalid-sighash' });
  });

  it('a missing witness UTXO: refused, and the review shows no fee nor digest', () => {
    const tx = new Transaction();
    tx.addInput({ txid: bytes32('prev/0'), index: 0, witnessUtxo: { script: taprootScript(keys.base.outputKey), amount: 10_000n } });
    tx.addInput({ txid: bytes32('prev/1'), index: 0 });
    tx.addOutput({ script: taprootScript(stranger.publicKey.subarray(1)), amount: 9_000n });
    const imported = importPsbt(tx.toPSBT(0));
    const review = reviewPsbt(imported, keys, 'regtest');
    expect(review.inputs[1]).toMatchObject({ amount: null, refusal: { code: 'missing-utxo' } });
    expect([review.fee, review.feeRate, review.digest, review.signable]).toEqual([null, null, null, false]);
    expect(refusal(imported).context).toMatchObject({ input: 1, code: 'missing-utxo' });
  });

  it('an input that is not taproot, and one already finalized: refused', () => {
    const tx = spendTx();
    tx.addInput({
      txid: bytes32('prev/wpkh'),
      index: 0,
      witnessUtxo: { script: Uint8Array.of(0x00, 0x14, ...new Uint8Array(20).fill(7)), amount: 5_000n },
    });
    expect(refusal(importPsbt(tx.toPSBT(0))).context).toMatchObject({ input: 3, code: 'not-taproot' });
    const psbt = base64.encode(spendTx().toPSBT(0));
    const plans = signers.map(() => planPsbtSigning(importPsbt(psbt), keys));
    const done = importPsbt(psbt);
    const final = finalizeKeyPath(done.bytes, done.tx, plans[0]!, runRounds(done.tx, plans));
    expect(refusal(importPsbt(final.psbt)).context).toMatchObject({ code: 'already-finalized' });
  });

  it('a key-path signature that does not verify, already in the PSBT: refused', () => {
    const tx = spendTx();
    tx.updateInput(0, { tapKeySig: new Uint8Array(64).fill(1) });
    expect(refusal(importPsbt(tx.toPSBT(0))).context).toMatchObject({ input: 0, code: 'bad-signature' });
  });
});
