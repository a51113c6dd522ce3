/**
 * A spend of a 2-of-3 group's coins built by the wallet (send.ts) along a path: its inputs carry
 * what a signer of that path needs (internal key, merkle root, the leaf with its control block, every
 * key's derivation with its leaf hashes), its change the tree and the derivations; a recovery spend
 * waits out older(N) in version 2. Each is then signed and verified by bitcoinjs-lib.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { base64 } from '@scure/base';
import { describe, expect, it } from 'vitest';
import type { WalletState } from '../../../preload/contract.ts';
import { importPsbt } from '../../../main/wallet/psbt-import.ts';
import { signRecoveryPsbt, singleKeyRecovery } from '../../../main/wallet/psbt-recovery.ts';
import { finalizeKeyPath } from '../../../main/wallet/psbt-finalize.ts';
import { planPathSigning } from '../../../main/wallet/psbt-signing.ts';
import { buildSend, RBF_SEQUENCE } from '../../../main/wallet/send.ts';
import { pathSpender } from '../../../main/wallet/spender.ts';
import type { SpendPath } from '../../../main/wallet/spend-path.ts';
import { bytes32 } from '../../support/psbt-fixtures.ts';
import { runPathRounds, thresholdGroup, verifyThresholdSpend } from '../../support/threshold-psbt.ts';

const group = thresholdGroup('send-threshold');
const spend = group.spendKeys();
const COINS = [
  { branch: 'receive' as const, index: 2, value: 60_000 },
  { branch: 'change' as const, index: 0, value: 30_000 },
];

/** The wallet state of a scan that found COINS at the group's addresses. */
function stateOf(tipHeight = 1000): WalletState {
  const address = (branch: number, index: number) => spend.at([branch, index]).address;
  const list = (branch: number, used: number[]) =>
    Array.from({ length: 3 }, (_, index) => ({ index, address: address(branch, index), used: used.includes(index) }));
  return {
    fetchedAt: 0,
    tipHeight,
    gapLimit: 3,
    balance: { confirmed: 90_000, unconfirmed: 0 },
    utxos: COINS.map((c, i) => ({
      txid: bytesToHex(bytes32(`send-threshold/${i}`)),
      vout: i,
      value: c.value,
      address: address(c.branch === 'receive' ? 0 : 1, c.index),
      branch: c.branch,
      index: c.index,
      confirmed: true,
      height: 900,
    })),
    history: [],
    receive: list(0, [2]),
    change: list(1, [0]),
    nextReceive: { index: 3, address: address(0, 3) },
  };
}

/** Someone else's taproot address: another group's. */
const payeeAddress = thresholdGroup('send-threshold-payee').spendKeys().at([]).address;

describe('the wallet builds a spend of a 2-of-3 group along a path', () => {
  it.each([
    ['leaf 0 (a pair)', { kind: 'leaf', leaf: 0 } as SpendPath],
    ['the key path', { kind: 'key' } as SpendPath],
  ])('%s: the fields a signer needs, change with its tree; signed and verified by bitcoinjs-lib', (_, path) => {
    const built = buildSend(stateOf(), pathSpender(spend, path), 'regtest', {
      recipients: [{ address: payeeAddress, amount: 80_000 }],
      feeRate: 2,
    });
    const imported = importPsbt(built.psbtBase64);
    for (let i = 0; i < imported.tx.inputsLength; i++) {
      const input = imported.tx.getInput(i);
      expect(input.sequence).toBe(RBF_SEQUENCE);
      expect(input.tapInternalKey).toBeDefined();
      expect(input.tapMerkleRoot).toBeDefined();
      expect(input.tapLeafScript?.length ?? 0).toBe(path.kind === 'leaf' ? 1 : 0);
      // The internal key and the four leaf keys, each leaf key with its leaf's hash.
      expect(input.tapBip32Derivation?.map(([, v]) => v.hashes.length)).toEqual([0, 1, 1, 1, 1]);
    }
    expect(built.change).not.toBeNull();
    const changeOut = [0, 1].map((i) => imported.tx.getOutput(i)).find((o) => o.tapTree !== undefined)!;
    expect(changeOut.tapTree).toHaveLength(4);
    expect(changeOut.tapBip32Derivation).toHaveLength(5);

    const psbt = base64.decode(built.psbtBase64);
    const plans = (path.kind === 'key' ? [0, 1, 2] : [0, 1]).map(() => planPathSigning(importPsbt(psbt), group.spendKeys(), path));
    const { signatures } = runPathRounds(psbt, plans, group.members);
    const final = finalizeKeyPath(imported.bytes, imported.tx, plans[0]!, signatures);
    const derivations = [0, 1].map((i) => imported.tx.getInput(i)).map((input) => [...input.tapBip32Derivation![0]![1].der.path]);
    const amounts = [0, 1].map((i) => imported.tx.getInput(i).witnessUtxo!.amount);
    expect(verifyThresholdSpend(final.rawTxHex, spend, derivations, amounts)).toEqual([true, true]);
    // The fee the wallet asked for is the fee of the transaction made (its size is the review's).
    expect(built.vsize).toBe(Math.ceil((final.rawTx.length + 3 * imported.tx.unsignedTx.length) / 4));
  });

  it('a recovery spend: nSequence older(N), version 2, signed by the recovery key', () => {
    const { path, olderBlocks } = singleKeyRecovery(spend);
    const request = { recipients: [{ address: payeeAddress, amount: 80_000 }], feeRate: 2 };
    // The coins confirmed at height 900: in the next block they are older(N) deep once the tip is 900 + N - 1.
    expect(() => buildSend(stateOf(900 + olderBlocks - 2), pathSpender(spend, path), 'regtest', request)).toThrow(
      expect.objectContaining({ code: 'INSUFFICIENT_FUNDS', message: expect.stringContaining(`${olderBlocks} blocks old`) }),
    );
    const built = buildSend(stateOf(900 + olderBlocks - 1), pathSpender(spend, path), 'regtest', request);
    const imported = importPsbt(built.psbtBase64);
    expect(imported.tx.version).toBe(2);
    expect([0, 1].map((i) => imported.tx.getInput(i).sequence)).toEqual([olderBlocks, olderBlocks]);
    const final = signRecoveryPsbt(imported, spend, group.recovery.secretKey, () => bytes32('send-threshold/aux'));
    const derivations = [0, 1].map((i) => [...imported.tx.getInput(i).tapBip32Derivation![0]![1].der.path]);
    const amounts = [0, 1].map((i) => imported.tx.getInput(i).witnessUtxo!.amount);
    expect(verifyThresholdSpend(final.rawTxHex, spend, derivations, amounts)).toEqual([true, true]);
  });
});
