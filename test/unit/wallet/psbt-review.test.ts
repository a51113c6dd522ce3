import { bytesToHex } from '@noble/hashes/utils.js';
import { base64 } from '@scure/base';
import { Address, Transaction } from '@scure/btc-signer';
import * as bitcoin from 'bitcoinjs-lib';
import { describe, expect, it } from 'vitest';
import { taprootAddress } from '../../../main/wallet/group.ts';
import { BTC_NETWORKS } from '../../../main/wallet/networks.ts';
import { importPsbt, MAX_PSBT_BYTES, psbtBytes } from '../../../main/wallet/psbt-import.ts';
import { reviewPsbt } from '../../../main/wallet/psbt-review.ts';
import { planPsbtSigning } from '../../../main/wallet/psbt-signing.ts';
import { AMOUNTS, CHANGE, CHANGE_0, derivation, keys, PAYMENT, RECEIVE_3, spendTx, stranger, taprootScript } from './psbt-build.ts';
import { bytes32 } from './psbt-fixtures.ts';

describe('PSBT import formats', () => {
  const bytes = spendTx().toPSBT(0);

  it('reads base64, hex, binary and a text file, with or without whitespace', () => {
    const b64 = base64.encode(bytes);
    const hex = bytesToHex(bytes);
    for (const input of [b64, hex, hex.toUpperCase(), bytes, new TextEncoder().encode(`${b64}\n`), `  ${b64.slice(0, 40)}\n${b64.slice(40)}  `]) {
      expect(bytesToHex(psbtBytes(input))).toBe(hex);
    }
    expect(importPsbt(b64).tx.inputsLength).toBe(3);
  });

  it('refuses what is not a PSBT, and a PSBT too large for a session', () => {
    for (const input of ['', 'hello', 'cHNidP8', 'deadbeef', new Uint8Array([1, 2, 3])]) {
      expect(() => importPsbt(input)).toThrow(expect.objectContaining({ code: 'INVALID_PSBT' }));
    }
    const big = new Uint8Array(MAX_PSBT_BYTES + 1);
    big.set(bytes);
    expect(() => importPsbt(big)).toThrow(/at most/);
  });
});

describe('PSBT review: what the approval screen shows, from the PSBT alone', () => {
  it('shows every input and output, change, fee, fee rate and network', () => {
    const tx = spendTx();
    const review = reviewPsbt(importPsbt(tx.toPSBT(0)), keys, 'regtest');
    const unsigned = bitcoin.Transaction.fromBuffer(tx.unsignedTx);
    expect(review.network).toBe('regtest');
    expect(review.inputs.map((i) => [i.txid, i.vout])).toEqual(
      unsigned.ins.map((i) => [Buffer.from(i.hash).reverse().toString('hex'), i.index]),
    );
    expect(review.inputs.map((i) => i.amount)).toEqual(AMOUNTS.map(Number));
    expect(review.inputs.map((i) => i.path)).toEqual([[], [], RECEIVE_3]);
    expect(review.inputs[0]!.address).toBe(taprootAddress(keys.base.outputKey, 'regtest'));
    expect(review.inputs.every((i) => i.refusal === null && i.sighash === 'DEFAULT')).toBe(true);

    const [payment, change] = review.outputs;
    expect(payment).toMatchObject({ amount: Number(PAYMENT), isChange: false, changePath: null, kind: 'address' });
    expect(payment!.address).toBe(Address(BTC_NETWORKS.regtest).encode({ type: 'tr', pubkey: stranger.publicKey.subarray(1) }));
    expect(change).toMatchObject({ amount: Number(CHANGE), isChange: true, changePath: CHANGE_0 });
    expect(change!.address).toMatch(/^bcrt1p/);

    expect([review.totalIn, review.totalOut, review.fee, review.sent]).toEqual([175_000, 170_000, 5_000, 120_000]);
    expect(review.feeRate).toBe(Math.round((5_000 * 100) / review.vsize) / 100);
    expect(review.signable).toBe(true);
    expect(review.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(review.warnings).toEqual([]);
  });

  it('encodes addresses for the network under review', () => {
    const psbt = spendTx().toPSBT(0);
    expect(reviewPsbt(importPsbt(psbt), keys, 'mainnet').outputs[1]!.address).toMatch(/^bc1p/);
    expect(reviewPsbt(importPsbt(psbt), keys, 'testnet').outputs[1]!.address).toMatch(/^tb1p/);
  });

  it('counts as change the group address itself, but not a derivation claim that does not reproduce the key', () => {
    const tx = spendTx();
    tx.addOutput({ script: taprootScript(keys.base.outputKey), amount: 1_000n });
    // Claims to be the group's 1/0 key while paying a stranger: a lie the review does not believe.
    tx.addOutput({ script: taprootScript(stranger.publicKey.subarray(1)), amount: 1_000n, tapBip32Derivation: derivation(keys.derive(CHANGE_0)) });
    tx.addOutput({ script: Uint8Array.of(0x6a, 0x04, 1, 2, 3, 4), amount: 0n });
    const review = reviewPsbt(importPsbt(tx.toPSBT(0)), keys, 'regtest');
    expect(review.outputs.map((o) => o.isChange)).toEqual([false, true, true, false, false]);
    expect(review.outputs[2]!.changePath).toEqual([]);
    expect(review.outputs[4]).toMatchObject({ kind: 'op_return', address: null, script: '6a0401020304' });
  });

  it('flags a fee larger than the payment', () => {
    const tx = new Transaction();
    tx.addInput({ txid: bytes32('prev/x'), index: 0, witnessUtxo: { script: taprootScript(keys.base.outputKey), amount: 100_000n } });
    tx.addOutput({ script: taprootScript(stranger.publicKey.subarray(1)), amount: 10_000n });
    const review = reviewPsbt(importPsbt(tx.toPSBT(0)), keys, 'regtest');
    expect(review.fee).toBe(90_000);
    expect(review.warnings).toEqual(['high-fee']);
  });

  it('refuses outputs that spend more than the inputs', () => {
    const tx = new Transaction();
    tx.addInput({ txid: bytes32('prev/y'), index: 0, witnessUtxo: { script: taprootScript(keys.base.outputKey), amount: 1_000n } });
    tx.addOutput({ script: taprootScript(stranger.publicKey.subarray(1)), amount: 2_000n });
    expect(() => reviewPsbt(importPsbt(tx.toPSBT(0)), keys, 'regtest')).toThrow(/spend more than the inputs/);
    expect(() => planPsbtSigning(importPsbt(tx.toPSBT(0)), keys)).toThrow(/spend more than the inputs/);
  });
});
