/**
 * PSBTs handed out as v0 unless v2 is asked for (Bitcoin Core reads v0 only): a v2 PSBT written as
 * v0 is read by bitcoinjs-lib (a v0-only reader) with the same unsigned transaction, and a
 * finalized one extracts to the same transaction. The handlers' `version` option, for a threshold
 * group's completion and recovery.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { base64 } from '@scure/base';
import { Transaction } from '@scure/btc-signer';
import * as bitcoin from 'bitcoinjs-lib';
import { describe, expect, it } from 'vitest';
import { psbtHandlers } from '../../../main/handlers/psbt.ts';
import { GroupKeysCache } from '../../../main/session/psbt-session.ts';
import { describePolicyGroup } from '../../../main/wallet/policy-group.ts';
import { psbtAsVersion } from '../../../main/wallet/psbt-export.ts';
import { importPsbt } from '../../../main/wallet/psbt-import.ts';
import { readPsbtMaps } from '../../../main/wallet/psbt-maps.ts';
import { singleKeyRecovery } from '../../../main/wallet/psbt-recovery.ts';
import { planPathSigning } from '../../../main/wallet/psbt-signing.ts';
import { bytes32 } from '../../support/psbt-fixtures.ts';
import { runPathRounds, SPEND, thresholdGroup, thresholdSpend, verifyThresholdSpend } from '../../support/threshold-psbt.ts';
import { spendTx } from './psbt-build.ts';

const group = thresholdGroup('psbt-export');

describe('PSBT export versions', () => {
  it('a v2 PSBT written as v0 is read by bitcoinjs-lib with the same unsigned transaction, and back', () => {
    const v2 = spendTx().toPSBT(2);
    const v0 = psbtAsVersion(v2);
    expect(readPsbtMaps(v0).version).toBe(0);
    const theirs = bitcoin.Psbt.fromBase64(base64.encode(v0));
    const unsigned = (theirs.data.globalMap.unsignedTx as unknown as { toBuffer(): Uint8Array }).toBuffer();
    expect(bytesToHex(unsigned)).toBe(bytesToHex(Transaction.fromPSBT(v2).unsignedTx));
    expect(theirs.data.inputs.map((i) => i.tapInternalKey && bytesToHex(i.tapInternalKey))).toEqual(
      [0, 1, 2].map((i) => {
        const key = importPsbt(v2).tx.getInput(i).tapInternalKey;
        return key && bytesToHex(key);
      }),
    );
    // Back to v2: the same inputs and outputs; a PSBT already in the version asked for is returned as it is.
    expect(bytesToHex(Transaction.fromPSBT(psbtAsVersion(v0, 2)).unsignedTx)).toBe(bytesToHex(unsigned));
    expect(psbtAsVersion(v0, 0)).toBe(v0);
  });

  it('psbt.complete and psbt.signRecovery of a 2-of-3 group hand out v0, and v2 on request', async () => {
    const saved = describePolicyGroup('export', group.memberKeys, 'regtest', group.policy);
    const handlers = psbtHandlers({
      group: () => saved,
      groupKeys: new GroupKeysCache(),
      localAllowsNonDefaultSighash: () => false,
      // A fresh copy each time, as the SignerKey port promises: the handler wipes what it is given.
      signer: async () => ({ secretKey: () => group.recovery.secretKey.slice() }),
      random: { bytes: (n) => bytes32('export-aux').subarray(0, n) },
    });
    const spend = group.spendKeys();
    const path = { kind: 'leaf', leaf: 2 } as const;
    const announced = thresholdSpend(spend, path).toPSBT(2);
    const plans = [0, 1].map(() => planPathSigning(importPsbt(announced), group.spendKeys(), path));
    const { copy } = runPathRounds(announced, plans, group.members);
    const psbt = base64.encode(copy.toPsbt());
    const asked = { groupId: saved.id, psbt, allowNonDefaultSighash: false, path };
    const v0 = await handlers['psbt.complete'](asked);
    const v2 = await handlers['psbt.complete']({ ...asked, version: 2 });
    expect(v2.rawTxHex).toBe(v0.rawTxHex);
    expect(verifyThresholdSpend(v0.rawTxHex, spend, SPEND.derivations, SPEND.amounts)).toEqual([true, true, true]);
    expect(readPsbtMaps(base64.decode(v2.psbtBase64)).version).toBe(2);
    expect(bitcoin.Psbt.fromBase64(v0.psbtBase64).extractTransaction().toHex()).toBe(v0.rawTxHex);

    const recoveryPath = singleKeyRecovery(spend).path;
    const recovery = base64.encode(thresholdSpend(spend, recoveryPath).toPSBT(2));
    const reviewed = await handlers['psbt.review']({
      groupId: saved.id,
      psbt: recovery,
      allowNonDefaultSighash: false,
      path: recoveryPath,
    });
    // Attack: what is signed alone must be what was reviewed; another transaction's digest signs nothing.
    const other = base64.encode(thresholdSpend(spend, recoveryPath, { ...SPEND, amounts: [...SPEND.amounts].reverse() }).toPSBT(2));
    await expect(
      handlers['psbt.signRecovery']({ groupId: saved.id, psbt: other, allowNonDefaultSighash: false, digest: reviewed.digest! }),
    ).rejects.toMatchObject({ code: 'PSBT_MISMATCH' });
    const recovered = await handlers['psbt.signRecovery']({
      groupId: saved.id,
      psbt: recovery,
      allowNonDefaultSighash: false,
      digest: reviewed.digest!,
    });
    expect(verifyThresholdSpend(recovered.rawTxHex, spend, SPEND.derivations, SPEND.amounts)).toEqual([true, true, true]);
    expect(bitcoin.Psbt.fromBase64(recovered.psbtBase64).extractTransaction().toHex()).toBe(recovered.rawTxHex);
  });
});
