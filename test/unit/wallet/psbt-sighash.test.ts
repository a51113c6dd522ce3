import { bytesToHex } from '@noble/hashes/utils.js';
import { Transaction } from '@scure/btc-signer';
import { tapLeafHash } from '@scure/btc-signer/payment.js';
import * as bitcoin from 'bitcoinjs-lib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TaprootSighasher, taprootSighash, TAPROOT_SIGHASH_TYPES } from '../../../main/wallet/psbt-sighash.ts';

const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });
// Scripts up to 300 bytes, so that some take a 3-byte CompactSize length, and taproot scripts.
const taproot = bytes(32, 32).map((key) => Uint8Array.of(0x51, 0x20, ...key));
const script = fc.oneof(taproot, bytes(0, 40), bytes(250, 300));
const amount = fc.bigInt({ min: 0n, max: 2_100_000_000_000_000n });
const spend = fc.record({
  inputs: fc.array(
    fc.record({ txid: bytes(32, 32), index: fc.nat({ max: 0xffff_ffff }), sequence: fc.nat({ max: 0xffff_ffff }), script, amount }),
    {
      minLength: 1,
      maxLength: 5,
    },
  ),
  outputs: fc.array(fc.record({ script, amount }), { minLength: 1, maxLength: 5 }),
  version: fc.integer({ min: 1, max: 3 }),
  lockTime: fc.nat({ max: 0xffff_ffff }),
});

function transactionOf(s: fc.Arbitrary<unknown> extends never ? never : ReturnType<typeof spend.generate>['value']): Transaction {
  // Scripts are random bytes: only their serialization matters here.
  const tx = new Transaction({
    version: s.version,
    lockTime: s.lockTime,
    allowUnknownOutputs: true,
    allowUnknownInputs: true,
    allowUnknownVersion: true,
    disableScriptCheck: true,
  });
  for (const input of s.inputs)
    tx.addInput({
      txid: input.txid,
      index: input.index,
      sequence: input.sequence,
      witnessUtxo: { script: input.script, amount: input.amount },
    });
  for (const output of s.outputs) tx.addOutput({ script: output.script, amount: output.amount });
  return tx;
}

describe('BIP341 key-path signature messages (TaprootSighasher)', () => {
  it('equal bitcoinjs-lib hashForWitnessV1 and @scure/btc-signer preimageWitnessV1 for every input and every hash type', () => {
    fc.assert(
      fc.property(spend, (s) => {
        const tx = transactionOf(s);
        const prevouts = { scripts: s.inputs.map((i) => i.script), amounts: s.inputs.map((i) => i.amount) };
        const sighasher = new TaprootSighasher(tx, prevouts);
        const other = bitcoin.Transaction.fromBuffer(tx.unsignedTx);
        for (const type of TAPROOT_SIGHASH_TYPES) {
          s.inputs.forEach((_, index) => {
            if ((type & 0x03) === 0x03 && index >= s.outputs.length) {
              expect(() => sighasher.message(index, type)).toThrow(
                expect.objectContaining({ code: 'PSBT_REFUSED', context: { input: index, code: 'invalid-sighash' } }),
              );
              return;
            }
            const message = bytesToHex(sighasher.message(index, type));
            expect(bytesToHex(taprootSighash(tx, index, type, prevouts))).toBe(message);
            const scure = tx.preimageWitnessV1(index, [...prevouts.scripts], type, [...prevouts.amounts]);
            expect(message, `input ${index}, type ${type}`).toBe(bytesToHex(scure));
            // bitcoinjs-lib sizes an ANYONECANPAY message for a 34-byte spent script (a taproot one).
            if ((type & 0x80) !== 0 && prevouts.scripts[index]!.length !== 34) return;
            const expected = other.hashForWitnessV1(index, prevouts.scripts, prevouts.amounts, type);
            expect(message, `input ${index}, type ${type}`).toBe(bytesToHex(expected));
          });
        }
      }),
      { numRuns: 40 },
    );
  });

  it('of a script-path spend (BIP342: leaf hash, key version 0, no code separator) equal bitcoinjs-lib and @scure/btc-signer', () => {
    fc.assert(
      fc.property(spend, bytes(1, 80), (s, leafScript) => {
        const leafHash = tapLeafHash(leafScript);
        const tx = transactionOf(s);
        const prevouts = { scripts: s.inputs.map((i) => i.script), amounts: s.inputs.map((i) => i.amount) };
        const sighasher = new TaprootSighasher(tx, prevouts);
        const other = bitcoin.Transaction.fromBuffer(tx.unsignedTx);
        for (const type of TAPROOT_SIGHASH_TYPES) {
          s.inputs.forEach((_, index) => {
            if ((type & 0x03) === 0x03 && index >= s.outputs.length) return;
            const message = bytesToHex(sighasher.message(index, type, leafHash));
            expect(message).not.toBe(bytesToHex(sighasher.message(index, type)));
            expect(bytesToHex(taprootSighash(tx, index, type, prevouts, leafHash))).toBe(message);
            const scure = tx.preimageWitnessV1(index, [...prevouts.scripts], type, [...prevouts.amounts], -1, leafScript);
            expect(message, `input ${index}, type ${type}`).toBe(bytesToHex(scure));
            if ((type & 0x80) !== 0 && prevouts.scripts[index]!.length !== 34) return;
            const expected = other.hashForWitnessV1(index, prevouts.scripts, prevouts.amounts, type, leafHash);
            expect(message, `input ${index}, type ${type}`).toBe(bytesToHex(expected));
          });
        }
      }),
      { numRuns: 40 },
    );
  });

  it('refuses a hash type BIP341 does not define, and a missing spent output', () => {
    const tx = new Transaction();
    tx.addInput({ txid: new Uint8Array(32).fill(1), index: 0 });
    tx.addOutput({ script: Uint8Array.of(0x51, 0x20, ...new Uint8Array(32).fill(2)), amount: 1n });
    const prevouts = { scripts: [Uint8Array.of(0x51)], amounts: [2n] };
    expect(() => taprootSighash(tx, 0, 0x04, prevouts)).toThrow(
      expect.objectContaining({ code: 'PSBT_REFUSED', context: { input: 0, code: 'invalid-sighash' } }),
    );
    expect(() => new TaprootSighasher(tx, { scripts: [], amounts: [] })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });
});
