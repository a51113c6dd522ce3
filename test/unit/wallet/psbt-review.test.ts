import { bytesToHex } from '@noble/hashes/utils.js';
import { base64 } from '@scure/base';
import { Address, Transaction } from '@scure/btc-signer';
import * as bitcoin from 'bitcoinjs-lib';
import * as ecc from 'tiny-secp256k1';
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
    for (const input of [
      b64,
      hex,
      hex.toUpperCase(),
      bytes,
      new TextEncoder().encode(`${b64}\n`),
      `  ${b64.slice(0, 40)}\n${b64.slice(40)}  `,
    ]) {
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

  it("knows the group address itself as the group's, but not a derivation claim that does not reproduce the key", () => {
    const tx = spendTx();
    tx.addOutput({ script: taprootScript(keys.base.outputKey), amount: 1_000n });
    // Claims to be the group's 1/0 key while paying a stranger: a lie the review does not believe.
    tx.addOutput({
      script: taprootScript(stranger.publicKey.subarray(1)),
      amount: 1_000n,
      tapBip32Derivation: derivation(keys.derive(CHANGE_0)),
    });
    tx.addOutput({ script: Uint8Array.of(0x6a, 0x04, 1, 2, 3, 4), amount: 0n });
    const review = reviewPsbt(importPsbt(tx.toPSBT(0)), keys, 'regtest');
    expect(review.outputs.map((o) => o.changePath)).toEqual([null, CHANGE_0, [], null, null]);
    expect(review.outputs[4]).toMatchObject({ kind: 'op_return', address: null, script: '6a0401020304' });
  });

  it('change detection: only the change branch 1/* is change; a receive address or any other path of the group is not', () => {
    // Built with bitcoinjs-lib: a creator could send the group's money to a deep path no watch-only
    // wallet of the group's descriptors (tr(musig(...)/<0;1>/*)) looks at, and have it shown as change.
    bitcoin.initEccLib(ecc);
    const psbt = new bitcoin.Psbt({ network: bitcoin.networks.regtest });
    psbt.addInput({
      hash: Buffer.from(bytes32('prev/c')),
      index: 0,
      witnessUtxo: { script: Buffer.from(taprootScript(keys.base.outputKey)), value: 300_000n },
    });
    const toGroup = (path: number[], value: number) => {
      const key = keys.derive(path);
      const [[xOnly, { der }]] = derivation(key) as unknown as [[Uint8Array, { der: { fingerprint: number; path: number[] } }]];
      const fingerprint = Buffer.alloc(4);
      fingerprint.writeUInt32BE(der.fingerprint);
      psbt.addOutput({
        script: Buffer.from(taprootScript(key.outputKey)),
        value: BigInt(value),
        tapInternalKey: Buffer.from(key.internalKey),
        tapBip32Derivation: [
          { pubkey: Buffer.from(xOnly), masterFingerprint: fingerprint, path: `m/${der.path.join('/')}`, leafHashes: [] },
        ],
      });
    };
    toGroup([1, 0], 10_000); // change branch: change
    toGroup([0, 3], 20_000); // receive branch: to the group, not change
    toGroup([1, 0, 0], 30_000); // three steps: to the group, not change
    toGroup([7, 7, 7, 7, 7, 7, 7, 7], 40_000); // deep path: to the group, not change
    toGroup([2, 5], 50_000); // neither branch: to the group, not change
    psbt.addOutput({ script: Buffer.from(taprootScript(keys.base.outputKey)), value: 60_000n }); // the group's own address
    psbt.addOutput({ script: Buffer.from(taprootScript(stranger.publicKey.subarray(1))), value: 70_000n });
    const review = reviewPsbt(importPsbt(psbt.toBuffer()), keys, 'regtest');
    expect(review.outputs.map((o) => o.isChange)).toEqual([true, false, false, false, false, false, false]);
    expect(review.outputs.map((o) => o.changePath)).toEqual([[1, 0], [0, 3], [1, 0, 0], [7, 7, 7, 7, 7, 7, 7, 7], [2, 5], [], null]);
    // Sent to others is only what leaves the group.
    expect(review.sent).toBe(70_000);
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
