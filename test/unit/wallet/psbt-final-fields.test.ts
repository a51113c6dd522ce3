/**
 * BIP174's finalizer clears every input field but the UTXOs, the final scripts and PSBTv2's
 * outpoint, sequence and lock-time fields. A finalized PSBT that kept its BIP373 partial
 * signatures (key type 0x1c) told every reader that a MuSig2 session was still open on it.
 */
import { base64 } from '@scure/base';
import { describe, expect, it } from 'vitest';
import { importPsbt } from '../../../main/wallet/psbt-import.ts';
import { completePsbt, planPsbtSigning } from '../../../main/wallet/psbt-signing.ts';
import { keys, runRounds, signers, spendTx } from './psbt-build.ts';
import { inputKeyTypes } from './psbt-fixtures.ts';

describe('a finalized PSBT holds no BIP373 field', () => {
  it.each([0, 2] as const)('PSBTv%i completed from another tool’s nonces and partial signatures keeps none of them', (version) => {
    const psbt = base64.encode(spendTx().toPSBT(version));
    const plans = signers.map(() => planPsbtSigning(importPsbt(psbt), keys));
    const creator = importPsbt(psbt);
    runRounds(creator.tx, plans);
    const handedOver = importPsbt(creator.tx.toPSBT());
    expect(inputKeyTypes(handedOver.bytes).flat()).toContain(0x1c);
    const final = completePsbt(handedOver, planPsbtSigning(handedOver, keys));
    for (const types of inputKeyTypes(final.psbt)) {
      expect(types.filter((t) => t >= 0x1a && t <= 0x1c)).toEqual([]);
      expect(types).toContain(0x08);
    }
  });
});
