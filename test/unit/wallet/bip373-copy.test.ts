/**
 * The BIP373 copy of a PSBT being co-signed, written on raw maps: what it holds after each round,
 * read back with the BIP373 layer, and the same PSBT as writing the fields with the PSBT engine
 * (@scure/btc-signer) gives, byte for byte, for v0 and v2.
 */
import { bytesToHex, concatBytes, hexToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { readBip373Fields, type Bip373Fields } from '../../../main/wallet/bip373.ts';
import { Bip373Copy } from '../../../main/wallet/bip373-copy.ts';
import { groupKeyAgg } from '../../../main/wallet/group.ts';
import { GroupKeys } from '../../../main/wallet/group-keys.ts';
import { importPsbt } from '../../../main/wallet/psbt-import.ts';
import { readPsbtMaps } from '../../../main/wallet/psbt-maps.ts';
import {
  completePsbt,
  makePsbtNonces,
  planPsbtSigning,
  PsbtSigningBatch,
  type PsbtSigningPlan,
} from '../../../main/wallet/psbt-signing.ts';
import { spendFrom, spentOutputs } from '../../support/psbt-fixtures.ts';
import { engine, indexOf, keys, runRounds, signers, spendTx, stranger, verifyWithBitcoinJs } from './psbt-build.ts';
import { bip373Cases, bytes32 } from './psbt-fixtures.ts';

const hex = bytesToHex;

/** The BIP373 fields of a PSBT as comparable text: per input, its participants, nonces and partials. */
function fieldsOf(psbt: Uint8Array): string[][] {
  const fields: Bip373Fields = readBip373Fields(readPsbtMaps(psbt));
  return fields.inputs.map((input) => [
    ...input.participants.map((p) => `participants ${hex(p.aggregateKey)} ${p.participants.map(hex).join(',')}`),
    ...input.pubNonces.map((n) => `nonce ${hex(n.participantKey)} ${hex(n.aggregateKey)} ${hex(n.pubNonce)}`),
    ...input.partialSigs.map((s) => `partial ${hex(s.participantKey)} ${hex(s.aggregateKey)} ${hex(s.partialSig)}`),
  ]);
}

/** Each signer's public nonces and partial signatures for `plan`, by position among its participants. */
function roundsFor(plan: PsbtSigningPlan, label: string) {
  const nonces: Uint8Array[][] = [];
  const secrets: ReturnType<typeof makePsbtNonces>['secretNonces'][] = [];
  for (const s of signers) {
    const made = makePsbtNonces(plan, s.secretKey, (input) => bytes32(`${label}/${input}`));
    nonces[indexOf(s.publicKey)] = made.publicNonces;
    secrets[indexOf(s.publicKey)] = made.secretNonces;
  }
  const batch = new PsbtSigningBatch(plan.inputs, nonces);
  const partials = signers.map((_, p) => batch.sign(p, signers.find((s) => indexOf(s.publicKey) === p)!.secretKey, secrets[p]!));
  return { nonces, partials };
}

/** The copy as the PSBT engine writes it: the old path, field by field with updateInput. */
function engineCopy(
  psbt: Uint8Array,
  plan: PsbtSigningPlan,
  nonces: readonly (readonly Uint8Array[] | undefined)[],
  partials: readonly (readonly Uint8Array[] | undefined)[],
): Uint8Array {
  const { tx, version } = importPsbt(psbt);
  engine.clear(tx, plan);
  engine.participants(tx, plan);
  nonces.forEach((list, p) => list && engine.pubNonces(tx, plan, p, list));
  partials.forEach((list, p) => list && engine.partialSigs(tx, plan, p, list));
  return tx.toPSBT(version);
}

describe('Bip373Copy: the BIP373 fields of a running session on raw PSBT maps', () => {
  it.each([0, 2] as const)(
    'PSBTv%i: participants from the start, then the nonces and partial signatures as they arrive; the engine’s bytes at every step',
    (version) => {
      // Announced with the fields of an earlier session (participants, nonces, partials): those nonces and partials go.
      const earlier = importPsbt(spendTx().toPSBT(version));
      const plans = signers.map(() => planPsbtSigning(importPsbt(earlier.tx.toPSBT(version)), keys));
      runRounds(earlier.tx, plans);
      const announced = earlier.tx.toPSBT(version);
      expect(fieldsOf(announced).every((input) => input.length === 7)).toBe(true);
      const plan = planPsbtSigning(importPsbt(announced), keys);
      const { nonces, partials } = roundsFor(plan, 'copy');

      const copy = new Bip373Copy(announced, plan);
      const participants = `participants ${hex(plan.aggregateKey)} ${plan.participants.map(hex).join(',')}`;
      expect(fieldsOf(copy.toPsbt())).toEqual(plan.inputs.map(() => [participants]));
      expect(hex(copy.toPsbt())).toBe(hex(engineCopy(announced, plan, [], [])));

      // Nonces arrive in any order; the copy holds exactly the ones given.
      const held: (Uint8Array[] | undefined)[] = [undefined, undefined, undefined];
      for (const p of [2, 0, 1]) {
        copy.setPubNonces(p, nonces[p]);
        held[p] = nonces[p];
        const psbt = copy.toPsbt();
        expect(hex(psbt)).toBe(hex(engineCopy(announced, plan, held, [])));
        const fields = readBip373Fields(readPsbtMaps(psbt));
        fields.inputs.forEach((input, i) => {
          expect(input.pubNonces.map((n) => hex(n.pubNonce)).sort()).toEqual(held.flatMap((list) => (list ? [hex(list[i]!)] : [])).sort());
          expect(input.pubNonces.every((n) => hex(n.aggregateKey) === hex(plan.inputs[i]!.key.signingCtx.aggregateKey))).toBe(true);
          expect(input.partialSigs).toEqual([]);
        });
      }
      const heldPartials: (Uint8Array[] | undefined)[] = [undefined, undefined, undefined];
      for (const p of [1, 2, 0]) {
        copy.setPartialSigs(p, partials[p]);
        heldPartials[p] = partials[p];
        expect(hex(copy.toPsbt())).toBe(hex(engineCopy(announced, plan, held, heldPartials)));
      }
      // Writing the same again changes nothing.
      copy.setPubNonces(0, nonces[0]);
      expect(hex(copy.toPsbt())).toBe(hex(engineCopy(announced, plan, nonces, partials)));

      // What another BIP373 tool does with it: read every partial back, aggregate, finalize.
      const handedOver = importPsbt(copy.toPsbt());
      const final = completePsbt(handedOver, planPsbtSigning(handedOver, keys));
      expect(verifyWithBitcoinJs(final.rawTxHex, spentOutputs(spendTx()))).toEqual([true, true, true]);
    },
  );

  it('writes the taproot internal key where the PSBT has none, and leaves the one it has', () => {
    const announced = spendTx().toPSBT(0);
    const plan = planPsbtSigning(importPsbt(announced), keys);
    expect(importPsbt(announced).tx.getInput(1).tapInternalKey).toBeUndefined();
    const copy = importPsbt(new Bip373Copy(announced, plan).toPsbt()).tx;
    expect(plan.inputs.map((input) => hex(copy.getInput(input.index).tapInternalKey!))).toEqual(
      plan.inputs.map((input) => hex(input.key.internalKey)),
    );
  });

  it('a new attempt: clearing removes every nonce and partial signature and keeps the participants', () => {
    const announced = spendTx().toPSBT(2);
    const plan = planPsbtSigning(importPsbt(announced), keys);
    const copy = new Bip373Copy(announced, plan);
    const fresh = copy.toPsbt();
    const first = roundsFor(plan, 'attempt-1');
    first.nonces.forEach((list, p) => copy.setPubNonces(p, list));
    copy.setPartialSigs(1, first.partials[1]);
    copy.clearProgress();
    expect(hex(copy.toPsbt())).toBe(hex(fresh));
    const second = roundsFor(plan, 'attempt-2');
    copy.setPubNonces(0, second.nonces[0]);
    expect(hex(copy.toPsbt())).toBe(hex(engineCopy(announced, plan, [second.nonces[0]], [])));
    // One signer's fields can be taken back alone too.
    copy.setPubNonces(0, undefined);
    expect(hex(copy.toPsbt())).toBe(hex(fresh));
  });

  it('refuses a signer position, a count or a size that is not the plan’s, and keeps what it held', () => {
    const announced = spendTx().toPSBT(0);
    const plan = planPsbtSigning(importPsbt(announced), keys);
    const copy = new Bip373Copy(announced, plan);
    const { nonces, partials } = roundsFor(plan, 'refusals');
    copy.setPubNonces(0, nonces[0]);
    const before = hex(copy.toPsbt());
    const codeOf = (run: () => void) => {
      try {
        run();
      } catch (e) {
        return (e as { code: string; message: string }).code + ': ' + (e as Error).message;
      }
      return 'no error';
    };
    expect(codeOf(() => copy.setPubNonces(3, nonces[0]))).toBe('INVALID_INPUT: no signer at this position');
    expect(codeOf(() => copy.setPubNonces(1, nonces[1]!.slice(1)))).toBe('INVALID_INPUT: expected one public nonce per input');
    expect(codeOf(() => copy.setPubNonces(1, partials[1]))).toBe('INVALID_INPUT: input 0: not a public nonce');
    expect(codeOf(() => copy.setPartialSigs(1, nonces[1]))).toBe('INVALID_INPUT: input 0: not a partial signature');
    expect(hex(copy.toPsbt())).toBe(before);
    // A plan of another PSBT (fewer inputs) is refused.
    const other = planPsbtSigning(
      importPsbt(
        spendFrom(keys, [{ path: [], amount: 10_000n }], [{ outputKey: stranger.publicKey.subarray(1), amount: 9_000n }]).toPSBT(),
      ),
      keys,
    );
    expect(codeOf(() => new Bip373Copy(announced, other))).toBe(
      'INVALID_INPUT: the plan is not of this PSBT: every input is planned, in order',
    );
  });

  it('100 inputs, 3 signers: every field in place, and the PSBT reads back', () => {
    const count = 100;
    const psbt = spendFrom(
      keys,
      Array.from({ length: count }, () => ({ path: [], amount: 10_000n })),
      [{ outputKey: stranger.publicKey.subarray(1), amount: 990_000n }],
      'copy/100',
    ).toPSBT();
    const plan = planPsbtSigning(importPsbt(psbt), keys);
    const copy = new Bip373Copy(psbt, plan);
    // Well-formed values are all the copy needs (the session has checked them): two points, a scalar.
    const nonce = (p: number, i: number) => concatBytes(signers[p]!.publicKey, signers[(p + i + 1) % 3]!.publicKey);
    const partial = (p: number, i: number) => bytes32(`partial/${p}/${i}`);
    for (let p = 0; p < 3; p++)
      copy.setPubNonces(
        p,
        plan.inputs.map((_, i) => nonce(p, i)),
      );
    for (let p = 0; p < 3; p++)
      copy.setPartialSigs(
        p,
        plan.inputs.map((_, i) => partial(p, i)),
      );
    const out = copy.toPsbt();
    const fields = readBip373Fields(readPsbtMaps(out));
    expect(fields.inputs).toHaveLength(count);
    fields.inputs.forEach((input, i) => {
      expect(input.participants).toHaveLength(1);
      expect(input.pubNonces.map((n) => hex(n.pubNonce))).toEqual(plan.participants.map((_, p) => hex(nonce(p, i))));
      expect(input.partialSigs.map((s) => hex(s.partialSig))).toEqual(plan.participants.map((_, p) => hex(partial(p, i))));
    });
    expect(importPsbt(out).tx.inputsLength).toBe(count);
  });
});

describe('Bip373Copy on a BIP373 vector from another implementation', () => {
  const vectorKeys = new GroupKeys(
    groupKeyAgg([
      '02346b99593357107c9d3459e9deba8d3eaf44e6636c85c7f853eb90ba52e8cd00',
      '024fafd65f8169186fc2bfdb2233c77e630d10be280a24c7165c09a27611775c2c',
      '02f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9',
    ]),
  );

  it('its public nonces written back into our copy are the fields the vector carries', () => {
    const name = 'Case: Spend of a Taproot output where the internal key is derived from a MuSig2 Aggregate Pubkey / With all pubnonces';
    const vector = hexToBytes(bip373Cases.find((c) => c.case === name)!.psbt_hex);
    const plan = planPsbtSigning(importPsbt(vector), vectorKeys);
    const copy = new Bip373Copy(vector, plan);
    expect(fieldsOf(copy.toPsbt())[0]!.filter((f) => f.startsWith('nonce'))).toEqual([]);
    const given = readBip373Fields(readPsbtMaps(vector)).inputs[0]!;
    for (const n of given.pubNonces) {
      const position = plan.participants.findIndex((k) => hex(k) === hex(n.participantKey));
      expect(hex(n.aggregateKey)).toBe(hex(plan.inputs[0]!.key.signingCtx.aggregateKey));
      copy.setPubNonces(position, [n.pubNonce]);
    }
    expect(fieldsOf(copy.toPsbt())[0]!.sort()).toEqual(fieldsOf(vector)[0]!.sort());
  });
});
