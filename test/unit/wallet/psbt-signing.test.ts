import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { base64 } from '@scure/base';
import { Transaction } from '@scure/btc-signer';
import { describe, expect, it } from 'vitest';
import { groupKeyAgg } from '../../../main/wallet/group.ts';
import { GroupKeys } from '../../../main/wallet/group-keys.ts';
import { finalizeKeyPath } from '../../../main/wallet/psbt-finalize.ts';
import { importPsbt } from '../../../main/wallet/psbt-import.ts';
import { readPsbtMaps } from '../../../main/wallet/psbt-maps.ts';
import { reviewPsbt } from '../../../main/wallet/psbt-review.ts';
import {
  assertApproved,
  completePsbt,
  makePsbtNonces,
  planPsbtSigning,
  PsbtSigningBatch,
  readBip373Progress,
} from '../../../main/wallet/psbt-signing.ts';
import { readBip373Fields } from '../../../main/wallet/bip373.ts';
import { bip373Cases, writePsbtMaps } from './psbt-fixtures.ts';
import {
  AMOUNTS,
  indexOf,
  keys,
  runRounds,
  signers,
  spendTx,
  taprootScript,
  verifyWithBitcoinJs,
  virtualSizeOf,
  RECEIVE_3,
} from './psbt-build.ts';

const prevouts = [
  { script: taprootScript(keys.base.outputKey), amount: AMOUNTS[0]! },
  { script: taprootScript(keys.base.outputKey), amount: AMOUNTS[1]! },
  { script: taprootScript(keys.derive(RECEIVE_3).outputKey), amount: AMOUNTS[2]! },
];

describe('co-signing a PSBT: 3 signers, 3 inputs (one BIP328-derived), one session', () => {
  it.each([0, 2] as const)('PSBTv%i: signs every input, writes BIP373 fields, finalizes; bitcoinjs-lib verifies each input', (version) => {
    const psbt = base64.encode(spendTx().toPSBT(version));
    expect(importPsbt(psbt).version).toBe(version);
    // Every signer imports the announced PSBT, reviews it and plans from it on its own.
    const plans = signers.map(() => {
      const imported = importPsbt(psbt);
      const review = reviewPsbt(imported, keys, 'regtest');
      expect(review.signable).toBe(true);
      const plan = planPsbtSigning(imported, keys);
      assertApproved(plan, review.digest!);
      return plan;
    });
    expect(plans[0]!.inputs.map((i) => i.key.path)).toEqual([[], [], RECEIVE_3]);
    // Inputs 0 and 1 share one signing context; input 2 signs under aggregate + 2 BIP32 tweaks + taproot tweak.
    expect(plans[0]!.inputs[0]!.key.signingCtx).toBe(plans[0]!.inputs[1]!.key.signingCtx);
    expect(plans[0]!.inputs[2]!.key.signingCtx.tweaks.map((t) => t.xOnly)).toEqual([false, false, true]);

    const creator = importPsbt(psbt);
    const signatures = runRounds(creator.tx, plans);

    // The BIP373 fields written as the rounds went are well-formed and complete.
    const fields = readBip373Fields(readPsbtMaps(creator.tx.toPSBT()));
    for (const input of fields.inputs) {
      expect(input.participants).toHaveLength(1);
      expect(input.participants[0]!.participants.map(bytesToHex)).toEqual(keys.group.publicKeys.map(bytesToHex));
      expect(input.pubNonces).toHaveLength(3);
      expect(input.partialSigs).toHaveLength(3);
    }
    expect(bytesToHex(fields.inputs[2]!.pubNonces[0]!.aggregateKey)).toBe(bytesToHex(plans[0]!.inputs[2]!.key.signingCtx.aggregateKey));

    const final = finalizeKeyPath(creator.bytes, creator.tx, plans[0]!, signatures);
    expect(verifyWithBitcoinJs(final.rawTxHex, prevouts)).toEqual([true, true, true]);
    const measured = virtualSizeOf(final.rawTxHex);
    expect(measured.txid).toBe(final.txid);
    // The review's size (and so its fee rate) is that of the transaction actually made.
    const review = reviewPsbt(importPsbt(psbt), keys, 'regtest');
    expect([review.weight, review.vsize]).toEqual([measured.weight, measured.vsize]);
    // The finalized PSBT extracts to the same transaction with the PSBT engine too.
    expect(bytesToHex(Transaction.fromPSBT(final.psbt).extract())).toBe(final.rawTxHex);
  });

  it('the other direction: a PSBT carrying every BIP373 nonce and partial signature is read, checked and completed', () => {
    const psbt = base64.encode(spendTx().toPSBT(0));
    const plans = signers.map(() => planPsbtSigning(importPsbt(psbt), keys));
    const creator = importPsbt(psbt);
    runRounds(creator.tx, plans);
    // Exported with nonces and partial signatures only, then finished by someone who saw none of the rounds.
    const handedOver = importPsbt(creator.tx.toPSBT());
    const plan = planPsbtSigning(handedOver, keys);
    const progress = readBip373Progress(handedOver.tx, plan);
    expect(progress.partialSigs.every((row) => row.every((p) => p?.length === 32))).toBe(true);
    const final = completePsbt(handedOver, plan);
    expect(verifyWithBitcoinJs(final.rawTxHex, prevouts)).toEqual([true, true, true]);
  });

  it('refuses a nonce list of the wrong shape, and a signature that does not verify', () => {
    const plan = planPsbtSigning(importPsbt(spendTx().toPSBT(0)), keys);
    const nonces = signers.map((s) => makePsbtNonces(plan, s.secretKey).publicNonces);
    expect(
      () =>
        new PsbtSigningBatch(
          plan.inputs,
          nonces.map((list) => list.slice(1)),
        ),
    ).toThrow(/one public nonce per input/);
    const imported = importPsbt(spendTx().toPSBT(0));
    expect(() =>
      finalizeKeyPath(
        imported.bytes,
        imported.tx,
        plan,
        plan.inputs.map(() => new Uint8Array(64)),
      ),
    ).toThrow(expect.objectContaining({ code: 'SIGNATURE_INVALID', context: { input: 0 } }));
    expect(() => finalizeKeyPath(imported.bytes, imported.tx, plan, [])).toThrow(/one signature per input/);
  });

  it('names the signer and the input of an invalid partial signature, and finishes nothing', () => {
    const psbt = base64.encode(spendTx().toPSBT(0));
    const plans = signers.map(() => planPsbtSigning(importPsbt(psbt), keys));
    const culprit = indexOf(signers[1]!.publicKey);
    expect(() =>
      runRounds(importPsbt(psbt).tx, plans, (partials) => {
        const bad = partials[culprit]![2]!.slice();
        bad[31] = (bad[31] as number) ^ 1;
        partials[culprit]![2] = bad;
      }),
    ).toThrow(
      expect.objectContaining({ code: 'INVALID_PARTIAL_SIGNATURE', context: expect.objectContaining({ signerIndex: culprit, input: 2 }) }),
    );
    // The same bad partial read back from a PSBT by the finalizer is refused the same way.
    const creator = importPsbt(psbt);
    try {
      runRounds(creator.tx, plans, (partials) => {
        partials[culprit]![0] = partials[culprit]![1]!;
      });
    } catch {
      // the creator's copy holds the bad partial now
    }
    const plan = planPsbtSigning(importPsbt(creator.tx.toPSBT()), keys);
    expect(() => completePsbt(importPsbt(creator.tx.toPSBT()), plan)).toThrow(
      expect.objectContaining({ code: 'INVALID_PARTIAL_SIGNATURE', context: expect.objectContaining({ signerIndex: culprit, input: 0 }) }),
    );
  });

  it('with a non-default sighash the user allowed: 65-byte signatures that bitcoinjs-lib verifies', () => {
    const tx = spendTx();
    for (let i = 0; i < 3; i++) tx.updateInput(i, { sighashType: 0x01 });
    const psbt = base64.encode(tx.toPSBT(0));
    const plans = signers.map(() =>
      planPsbtSigning(importPsbt(psbt), keys, { allowNonDefaultSighash: true, localAllowsNonDefaultSighash: true }),
    );
    const creator = importPsbt(psbt);
    const final = finalizeKeyPath(creator.bytes, creator.tx, plans[0]!, runRounds(creator.tx, plans));
    expect(verifyWithBitcoinJs(final.rawTxHex, prevouts)).toEqual([true, true, true]);
    expect(reviewPsbt(importPsbt(psbt), keys, 'regtest', { allowNonDefaultSighash: true, localAllowsNonDefaultSighash: true }).vsize).toBe(
      virtualSizeOf(final.rawTxHex).vsize,
    );
  });
});

describe('BIP373 vectors from another implementation, completed by ours', () => {
  const vectorKeys = new GroupKeys(
    groupKeyAgg([
      '02346b99593357107c9d3459e9deba8d3eaf44e6636c85c7f853eb90ba52e8cd00',
      '024fafd65f8169186fc2bfdb2233c77e630d10be280a24c7165c09a27611775c2c',
      '02f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9',
    ]),
  );
  const byName = (name: string) => bip373Cases.find((c) => c.case === `Case: ${name}`)!.psbt_hex;

  it.each([
    'Spend of a Taproot output where the internal key is a MuSig2 Aggregate Pubkey / With all partial signatures',
    'Spend of a Taproot output where the internal key is derived from a MuSig2 Aggregate Pubkey / With all partial signatures',
  ])('%s: our aggregate of its partial signatures is its PSBT_IN_TAP_KEY_SIG', (name) => {
    const hex = byName(name);
    const given = importPsbt(hex).tx.getInput(0).tapKeySig!;
    // Take the final signature away, and let our finalizer make it from the BIP373 fields.
    const maps = readPsbtMaps(hexToBytes(hex));
    const stripped = writePsbtMaps({ ...maps, inputs: maps.inputs.map((m) => m.filter((e) => e.keyType !== 0x13)) });
    const imported = importPsbt(stripped);
    const plan = planPsbtSigning(imported, vectorKeys);
    expect(plan.inputs[0]!.signed).toBe(false);
    const final = completePsbt(imported, plan);
    const witness = Transaction.fromRaw(final.rawTx).getInput(0).finalScriptWitness!;
    expect(bytesToHex(witness[0]!)).toBe(bytesToHex(given));
    // The original, signature included, plans as already signed (its signature checked) and finalizes.
    const original = importPsbt(hex);
    const signedPlan = planPsbtSigning(original, vectorKeys);
    expect(signedPlan.inputs[0]!.signed).toBe(true);
    expect(completePsbt(original, signedPlan).rawTxHex).toBe(final.rawTxHex);
  });

  it('a vector with all public nonces but no partial signature cannot be completed, and says what is missing', () => {
    const imported = importPsbt(
      byName('Spend of a Taproot output where the internal key is derived from a MuSig2 Aggregate Pubkey / With all pubnonces'),
    );
    const plan = planPsbtSigning(imported, vectorKeys);
    expect(readBip373Progress(imported.tx, plan).pubNonces.every((row) => row[0]?.length === 66)).toBe(true);
    expect(() => completePsbt(imported, plan)).toThrow(/input 0 has no partial signature from signer 0/);
  });

  it('refuses the vectors this wallet does not spend: a bare aggregate output key and a script path', () => {
    for (const name of [
      'Spend of a Taproot output where the output key is a MuSig2 Aggregate Pubkey / With all partial signatures',
      'Spend of a Taproot output where a key in a script is a MuSig2 Aggregate Pubkey / With all partial signatures',
    ]) {
      expect(() => planPsbtSigning(importPsbt(byName(name)), vectorKeys)).toThrow(expect.objectContaining({ code: 'PSBT_REFUSED' }));
    }
  });
});
