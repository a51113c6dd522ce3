/**
 * A PSBT of a 2-of-3 group with a recovery key, co-signed over the key path by all three and over
 * each pair's leaf: each signer imports, reviews and plans the PSBT itself, real MuSig2 rounds sign
 * every input (three inputs at distinct BIP328 derivations), the BIP373 fields carry leaf hashes, and
 * bitcoinjs-lib with tiny-secp256k1 verify every final input. Then what is refused, in words.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { readBip373Fields } from '../../../main/wallet/bip373.ts';
import { importPsbt } from '../../../main/wallet/psbt-import.ts';
import { readPsbtMaps, writePsbtMaps, type PsbtEntry } from '../../../main/wallet/psbt-maps.ts';
import { reviewPathPsbt } from '../../../main/wallet/psbt-review.ts';
import { assertApproved, completePsbt, planPathSigning, readBip373Progress } from '../../../main/wallet/psbt-signing.ts';
import { finalizeKeyPath } from '../../../main/wallet/psbt-finalize.ts';
import { KEY_PATH, type SpendPath } from '../../../main/wallet/spend-path.ts';
import { inputKeyTypes } from './psbt-fixtures.ts';
import { runPathRounds, signersOf, SPEND, thresholdGroup, thresholdSpend, verifyThresholdSpend } from '../../support/threshold-psbt.ts';

const group = thresholdGroup('psbt-threshold');
const PATHS: [string, SpendPath][] = [
  ['the key path (all three)', KEY_PATH],
  ['leaf 0 (the first pair)', { kind: 'leaf', leaf: 0 }],
  ['leaf 1 (the second pair)', { kind: 'leaf', leaf: 1 }],
  ['leaf 2 (the third pair)', { kind: 'leaf', leaf: 2 }],
];

describe('co-signing a 2-of-3 PSBT along each path', () => {
  it.each(PATHS)('%s: planned by each signer, signed in real MuSig2 rounds, verified by bitcoinjs-lib', (_, path) => {
    const creatorKeys = group.spendKeys();
    const psbt = thresholdSpend(creatorKeys, path).toPSBT(0);
    // Each signer of the path imports, reviews and plans the announced PSBT on its own.
    const first = planPathSigning(importPsbt(psbt), group.spendKeys(), path);
    const plans = signersOf(first, group.members).map(() => {
      const imported = importPsbt(psbt);
      const spend = group.spendKeys();
      const review = reviewPathPsbt(imported, spend, path, 'regtest');
      expect(review.signable).toBe(true);
      expect(review.inputs.map((i) => i.path)).toEqual(SPEND.derivations);
      expect(review.outputs[1]).toMatchObject({ isChange: true, changePath: [1, 6] });
      const plan = planPathSigning(imported, spend, path);
      assertApproved(plan, review.digest!);
      return plan;
    });
    expect(plans).toHaveLength(path.kind === 'key' ? 3 : 2);
    expect(plans[0]!.path).toEqual(path);

    const { signatures, copy } = runPathRounds(psbt, plans, group.members);
    const creator = importPsbt(psbt);
    const final = finalizeKeyPath(creator.bytes, creator.tx, plans[0]!, signatures);
    expect(verifyThresholdSpend(final.rawTxHex, creatorKeys, SPEND.derivations, SPEND.amounts)).toEqual([true, true, true]);
    // The review's size is the transaction's: a leaf witness carries the script and the control block.
    const review = reviewPathPsbt(importPsbt(psbt), creatorKeys, path, 'regtest');
    expect(review.weight).toBe(final.rawTx.length * 4 - (final.rawTx.length - creator.tx.unsignedTx.length) * 3);

    // The copy's BIP373 fields: participants keyed by the untweaked aggregate of the path's signers,
    // nonces and partial signatures by (participant, the key signed for, the leaf hash on a leaf).
    const fields = readBip373Fields(readPsbtMaps(copy.toPsbt()));
    fields.inputs.forEach((input, i) => {
      const planned = plans[0]!.inputs[i]!;
      expect(input.participants.map((p) => bytesToHex(p.aggregateKey))).toEqual([bytesToHex(plans[0]!.aggregateKey)]);
      expect(input.partialSigs).toHaveLength(plans.length);
      for (const entry of [...input.pubNonces, ...input.partialSigs]) {
        expect(bytesToHex(entry.aggregateKey)).toBe(bytesToHex(planned.key.signingCtx.aggregateKey));
        expect(entry.leafHash && bytesToHex(entry.leafHash)).toBe(planned.leaf && bytesToHex(planned.leaf.leafHash));
      }
      if (planned.leaf) expect(bytesToHex(planned.key.signingCtx.xOnlyKey)).toBe(bytesToHex(planned.verifyKey));
    });

    // Another tool takes the copy over: the fields are read back and completed, to the same transaction,
    // and the finalized PSBT keeps no BIP373 field (nor any other BIP174's finalizer clears).
    const handedOver = importPsbt(copy.toPsbt());
    const plan = planPathSigning(handedOver, group.spendKeys(), path);
    expect(
      readBip373Progress(handedOver.tx, plan)
        .partialSigs.flat()
        .every((p) => p?.length === 32),
    ).toBe(true);
    const completed = completePsbt(handedOver, plan);
    expect(completed.rawTxHex).toBe(final.rawTxHex);
    for (const types of [...inputKeyTypes(completed.psbt), ...inputKeyTypes(final.psbt)]) {
      expect(types.filter((t) => t >= 0x13 && t <= 0x1c)).toEqual([]);
      expect(types).toEqual([0x01, 0x08]);
    }
  });

  it('a leaf spend costs more weight than the key path, by the script and the control block', () => {
    const spend = group.spendKeys();
    const weight = (path: SpendPath) => reviewPathPsbt(importPsbt(thresholdSpend(spend, path).toPSBT(0)), spend, path, 'regtest').weight;
    const leaf = spend.at([0, 3]).leaves[0]!;
    expect(weight({ kind: 'leaf', leaf: 0 }) - weight(KEY_PATH)).toBe(3 * (1 + leaf.script.length + 1 + leaf.controlBlock.length));
  });
});

/** The PSBT_REFUSED error of planning `psbt` along `path`, as data. */
function refusalOf(psbt: Uint8Array, path: SpendPath): { code: string; context: Record<string, unknown>; message: string } {
  try {
    planPathSigning(importPsbt(psbt), group.spendKeys(), path);
  } catch (e) {
    return e as { code: string; context: Record<string, unknown>; message: string };
  }
  throw new Error('planned');
}

describe('what a 2-of-3 group refuses to sign, in words', () => {
  const spend = group.spendKeys();
  const LEAF_0: SpendPath = { kind: 'leaf', leaf: 0 };
  const leaves = spend.at([1, 5]).leaves;
  const leafScript = (script: Uint8Array) => Uint8Array.of(...script, 0xc0);
  /** PSBT_IN_TAP_LEAF_SCRIPT: control block → script and leaf version. */
  const leafEntry = (controlBlock: Uint8Array, script: Uint8Array): PsbtEntry => ({
    keyType: 0x15,
    keyData: controlBlock,
    value: leafScript(script),
  });
  /** The PSBT with input `index`'s map changed by `edit` on the raw maps (@scure/btc-signer would refuse to write these). */
  const edited = (psbt: Uint8Array, index: number, edit: (entries: PsbtEntry[]) => PsbtEntry[]) => {
    const maps = readPsbtMaps(psbt);
    return writePsbtMaps({ ...maps, inputs: maps.inputs.map((m, i) => (i === index ? edit([...m]) : m)) });
  };
  const psbtOf = () => thresholdSpend(spend, LEAF_0).toPSBT(0);

  it('a bad signature in a final transaction is caught by the independent check (it can fail)', () => {
    const psbt = thresholdSpend(spend, LEAF_0).toPSBT(0);
    const plans = [0, 1].map(() => planPathSigning(importPsbt(psbt), group.spendKeys(), LEAF_0));
    const { signatures } = runPathRounds(psbt, plans, group.members);
    const creator = importPsbt(psbt);
    const hex = finalizeKeyPath(creator.bytes, creator.tx, plans[0]!, signatures).rawTxHex;
    const sig = bytesToHex(signatures[1]!);
    const tampered = hex.replace(sig, sig.slice(0, -2) + (sig.endsWith('00') ? '01' : '00'));
    expect(verifyThresholdSpend(tampered, spend, SPEND.derivations, SPEND.amounts)).toEqual([true, false, true]);
  });

  it('a leaf script that is not the group’s (foreign-leaf)', () => {
    const stranger = Uint8Array.of(0x20, ...group.recovery.publicKey.subarray(1), 0xac);
    const e = refusalOf(
      edited(psbtOf(), 1, (m) => [...m, leafEntry(leaves[1]!.controlBlock, stranger)]),
      LEAF_0,
    );
    expect(e).toMatchObject({ code: 'PSBT_REFUSED', context: { input: 1, code: 'foreign-leaf' } });
    expect(e.message).toMatch(/input 1: it names a leaf script that is not one of the group's leaves at this address/);
  });

  it('one of the group’s leaves with another leaf’s control block (wrong-control-block)', () => {
    const psbt = edited(psbtOf(), 1, (m) => [...m, leafEntry(leaves[2]!.controlBlock, leaves[1]!.script)]);
    expect(refusalOf(psbt, LEAF_0)).toMatchObject({ code: 'PSBT_REFUSED', context: { input: 1, code: 'wrong-control-block' } });
  });

  it('a leaf of a different group with the same policy, at the same derivation (foreign-leaf), and that group’s coin (not-ours)', () => {
    const other = thresholdGroup('another-group').spendKeys();
    const theirs = other.at([1, 5]).leaves[0]!;
    const psbt = edited(psbtOf(), 1, (m) => [...m, leafEntry(theirs.controlBlock, theirs.script)]);
    expect(refusalOf(psbt, LEAF_0)).toMatchObject({ context: { input: 1, code: 'foreign-leaf' } });
    // Their coin, with every field of their own: not this group's output at any derivation it names.
    const mixed = thresholdSpend(spend, LEAF_0);
    const coin = thresholdSpend(other, LEAF_0, { derivations: [[1, 5]], amounts: [40_000n], change: [1, 6] }, 'their-prev').getInput(0);
    mixed.addInput(coin);
    expect(refusalOf(mixed.toPSBT(0), LEAF_0)).toMatchObject({ context: { input: 3, code: 'not-ours' } });
  });

  it('a merkle root or a derivation’s leaf hash that is not the group’s', () => {
    const root = edited(psbtOf(), 0, (m) => m.map((e) => (e.keyType === 0x18 ? { ...e, value: leaves[0]!.leafHash } : e)));
    expect(refusalOf(root, LEAF_0)).toMatchObject({ context: { input: 0, code: 'inconsistent-metadata' } });
    // A derivation of a leaf key (one leaf hash, then the origin) naming the recovery leaf instead.
    const claim = edited(psbtOf(), 2, (m) =>
      m.map((e) =>
        e.keyType === 0x16 && e.value[0] === 1 ? { ...e, value: Uint8Array.of(1, ...leaves[3]!.leafHash, ...e.value.subarray(33)) } : e,
      ),
    );
    expect(refusalOf(claim, LEAF_0)).toMatchObject({ context: { input: 2, code: 'foreign-leaf' } });
  });

  it('an input naming several derivation paths is followed along its first only (no PSBT multiplies derivations)', () => {
    // A claim of the group's fingerprint at a path where the coin is not, before the true one.
    const psbt = edited(psbtOf(), 1, (m) => {
      const claim = m.find((e) => e.keyType === 0x16 && e.value[0] === 0)!;
      const wrongPath = Uint8Array.of(...claim.value.subarray(0, 5), 0, 0, 0, 0, 99, 0, 0, 0);
      return [{ keyType: 0x16, keyData: new Uint8Array(32).fill(2), value: wrongPath }, ...m];
    });
    expect(refusalOf(psbt, LEAF_0)).toMatchObject({ context: { input: 1, code: 'not-ours' } });
    // Without it, the same input is the group's.
    expect(() => planPathSigning(importPsbt(psbtOf()), group.spendKeys(), LEAF_0)).not.toThrow();
  });

  it('a leaf of one signer alone is never a MuSig2 session', () => {
    const recovery: SpendPath = { kind: 'leaf', leaf: 3 };
    expect(() => planPathSigning(importPsbt(thresholdSpend(spend, recovery).toPSBT(0)), spend, recovery)).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(/signs alone, without a session/) }),
    );
  });
});

describe('a recovery path of two keys: a MuSig2 leaf behind its timelock', () => {
  const pair = thresholdGroup('psbt-recovery-pair', 144, 2);
  const RECOVERY: SpendPath = { kind: 'leaf', leaf: 3 };

  it('the pair signs in MuSig2 rounds after older(N); bitcoinjs-lib verifies; one block early is refused', () => {
    const spend = pair.spendKeys();
    const tx = thresholdSpend(spend, RECOVERY);
    expect(tx.getInput(0).sequence).toBe(144);
    const psbt = tx.toPSBT(0);
    const plans = [0, 1].map(() => planPathSigning(importPsbt(psbt), pair.spendKeys(), RECOVERY));
    expect(plans[0]!.participants.map(bytesToHex)).toEqual(pair.recoverers.map((r) => bytesToHex(r.publicKey)).sort());
    const { signatures } = runPathRounds(psbt, plans, pair.recoverers);
    const creator = importPsbt(psbt);
    const final = finalizeKeyPath(creator.bytes, creator.tx, plans[0]!, signatures);
    expect(verifyThresholdSpend(final.rawTxHex, spend, SPEND.derivations, SPEND.amounts)).toEqual([true, true, true]);

    const early = thresholdSpend(spend, RECOVERY);
    early.updateInput(2, { sequence: 143 });
    expect(() => planPathSigning(importPsbt(early.toPSBT(0)), pair.spendKeys(), RECOVERY)).toThrow(
      expect.objectContaining({ code: 'PSBT_REFUSED', context: expect.objectContaining({ input: 2, code: 'timelock-not-met' }) }),
    );
  });
});
