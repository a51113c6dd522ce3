/**
 * The recovery leaf of a 2-of-3 group, `<K> OP_CHECKSIGVERIFY <N> OP_CHECKSEQUENCEVERIFY`, signed
 * by the recovery key alone after its timelock. The timelock is checked in the script as
 * bitcoinjs-lib decompiles it, with BIP68/BIP112 evaluated here (not by our code): nSequence N
 * passes, N - 1 does not, and our signer refuses what the script would refuse.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import * as bitcoin from 'bitcoinjs-lib';
import { describe, expect, it } from 'vitest';
import { importPsbt } from '../../../main/wallet/psbt-import.ts';
import { singleKeyRecovery, signRecoveryPsbt } from '../../../main/wallet/psbt-recovery.ts';
import { bytes32 } from '../../support/psbt-fixtures.ts';
import { SPEND, thresholdGroup, thresholdSpend, verifyThresholdSpend } from '../../support/threshold-psbt.ts';
import { inputKeyTypes } from './psbt-fixtures.ts';

const OLDER = 144;
const group = thresholdGroup('psbt-recovery', OLDER);

/** BIP112 OP_CHECKSEQUENCEVERIFY with BIP68's encoding, for a block-based script operand `n`. */
function checkSequenceVerify(txVersion: number, sequence: number, n: number): boolean {
  const DISABLE = 2 ** 31;
  const TYPE = 1 << 22;
  const MASK = 0xffff;
  if (n & DISABLE) return true; // the operand disables the check
  if (txVersion < 2) return false;
  if (sequence & DISABLE) return false;
  if ((sequence & TYPE) !== (n & TYPE)) return false;
  return (sequence & MASK) >= (n & MASK);
}

/** The PSBT of the recovery spend with every input's nSequence (and the version) given. */
function recoverySpend(sequence: number | undefined, version = 2): Uint8Array {
  const spend = group.spendKeys();
  const tx = thresholdSpend(spend, singleKeyRecovery(spend).path);
  const raw = bitcoin.Psbt.fromBuffer(Buffer.from(tx.toPSBT(0)));
  raw.setVersion(version);
  if (sequence !== undefined) raw.txInputs.forEach((_, i) => raw.setInputSequence(i, sequence));
  return raw.toBuffer();
}

describe('the single-key recovery leaf, signed locally', () => {
  const spend = group.spendKeys();
  const { path } = singleKeyRecovery(spend);
  const aux = () => bytes32('recovery-aux');

  it('signs after its timelock, checked in the script: bitcoinjs-lib verifies every input', () => {
    const final = signRecoveryPsbt(importPsbt(recoverySpend(undefined)), spend, group.recovery.secretKey, aux);
    expect(verifyThresholdSpend(final.rawTxHex, spend, SPEND.derivations, SPEND.amounts)).toEqual([true, true, true]);
    const tx = bitcoin.Transaction.fromHex(final.rawTxHex);
    for (const input of tx.ins) {
      const [, script] = input.witness as [Uint8Array, Uint8Array, Uint8Array];
      const ops = bitcoin.script.decompile(script)!;
      expect(ops.slice(1).map((op) => (typeof op === 'number' ? op : 'push'))).toEqual([
        bitcoin.opcodes.OP_CHECKSIGVERIFY,
        'push',
        bitcoin.opcodes.OP_CHECKSEQUENCEVERIFY,
      ]);
      expect(bytesToHex(ops[0] as Uint8Array)).toBe(bytesToHex(group.recovery.publicKey.subarray(1)));
      const n = bitcoin.script.number.decode(Buffer.from(ops[2] as Uint8Array));
      expect(n).toBe(OLDER);
      expect(checkSequenceVerify(tx.version, input.sequence, n)).toBe(true);
      expect(checkSequenceVerify(tx.version, n - 1, n)).toBe(false);
    }
    // Finalized: the UTXO and the final witness, nothing else.
    expect(inputKeyTypes(final.psbt)).toEqual(SPEND.derivations.map(() => [0x01, 0x08]));
  });

  it.each([
    ['one block early', OLDER - 1, 2],
    ['in a version 1 transaction', OLDER, 1],
    ['with the relative lock disabled', 2 ** 31 + OLDER, 2],
    ['with a time-based lock', (1 << 22) + OLDER, 2],
  ])('refuses a spend %s (timelock-not-met), as the script would', (_, sequence, version) => {
    expect(checkSequenceVerify(version, sequence, OLDER)).toBe(false);
    expect(() => signRecoveryPsbt(importPsbt(recoverySpend(sequence, version)), spend, group.recovery.secretKey, aux)).toThrow(
      expect.objectContaining({
        code: 'PSBT_REFUSED',
        context: expect.objectContaining({ code: 'timelock-not-met', input: 0 }),
        message: expect.stringMatching(/recovery leaf needs nSequence of at least 144 blocks/),
      }),
    );
  });

  it('is signed by the recovery key only, and only for a group whose recovery path is one key', () => {
    expect(() => signRecoveryPsbt(importPsbt(recoverySpend(undefined)), spend, group.members[0]!.secretKey, aux)).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(/not the group's recovery key/) }),
    );
    expect(path).toEqual({ kind: 'leaf', leaf: 3 });
  });
});
