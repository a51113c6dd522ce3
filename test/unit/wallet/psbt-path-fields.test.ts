/**
 * A recovery set whose keys are exactly one of the k-subsets (or all n) puts the same MuSig2 key in
 * two places of the tree. BIP371 keys PSBT_{IN,OUT}_TAP_BIP32_DERIVATION by x-only key, one entry
 * per key with every leaf hash it is in: the builder must merge them, or no PSBT can be built (the
 * PSBT library refuses a repeated key). bitcoinjs-lib reads the result.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { Transaction } from '@scure/btc-signer';
import * as bitcoin from 'bitcoinjs-lib';
import { describe, expect, it } from 'vitest';
import { importPsbt } from '../../../main/wallet/psbt-import.ts';
import { planPathSigning } from '../../../main/wallet/psbt-signing.ts';
import { pathInputFields, pathOutputFields } from '../../../main/wallet/psbt-path-fields.ts';
import { SpendKeys } from '../../../main/wallet/spend-keys.ts';
import { GroupOutputs } from '../../../main/wallet/threshold.ts';
import { cosigners } from '../../support/psbt-fixtures.ts';

const members = cosigners(3, 'path-fields/member').map((m) => bytesToHex(m.publicKey));

describe.each([
  ['a pair that is also a subset leaf', [members[0]!, members[1]!]],
  ['all three members, the internal key', members],
])('a recovery set that is %s', (_name, recoveryKeys) => {
  const spend = new SpendKeys(
    new GroupOutputs(members, { kind: 'k-of-n', k: 2, recovery: { keys: recoveryKeys, olderBlocks: 10 } }),
    'regtest',
  );

  it('one derivation entry per key, with the hashes of every leaf it is in; the PSBT builds, plans and reads', () => {
    const recoveryLeaf = spend.at([0, 4]).leaves.length - 1;
    const path = { kind: 'leaf' as const, leaf: recoveryLeaf };
    const { fields, sequence } = pathInputFields(spend, [0, 4], path);
    const keys = fields.tapBip32Derivation!.map(([key]) => bytesToHex(key));
    expect(new Set(keys).size).toBe(keys.length);
    const output = spend.at([0, 4]);
    const recoveryKey = output.leaves[recoveryLeaf]!.key;
    const shared = fields.tapBip32Derivation!.find(([key]) => bytesToHex(key) === bytesToHex(recoveryKey))!;
    const expected = output.leaves.filter((l) => bytesToHex(l.key) === bytesToHex(recoveryKey)).map((l) => bytesToHex(l.leafHash));
    expect(shared[1].hashes.map((h) => bytesToHex(h)).sort()).toEqual(expected.sort());

    const tx = new Transaction({ allowUnknownOutputs: true, version: 2 });
    tx.addInput({
      txid: new Uint8Array(32).fill(1),
      index: 0,
      witnessUtxo: { script: Uint8Array.of(0x51, 0x20, ...output.outputKey), amount: 50_000n },
      sequence: sequence!,
      ...fields,
    });
    tx.addOutput({ script: Uint8Array.of(0x51, 0x20, ...spend.at([1, 0]).outputKey), amount: 49_000n, ...pathOutputFields(spend, [1, 0]) });
    const psbt = tx.toPSBT(0);
    const plan = planPathSigning(importPsbt(psbt), spend, path);
    expect(plan.inputs[0]!.verifyKey).toEqual(recoveryKey);
    const read = bitcoin.Psbt.fromBuffer(Buffer.from(psbt));
    expect(read.data.inputs[0]!.tapBip32Derivation).toHaveLength(keys.length);
  });
});
