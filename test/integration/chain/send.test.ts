/**
 * Spends built by main/wallet/send.ts from a wallet scanned off a local Esplora server, each checked
 * by code that is not ours: bitcoinjs-lib reads the PSBT (outputs, amounts, fee = inputs − outputs,
 * RBF sequences), the change address is derived independently (@scure/bip32 from the synthetic
 * xpub, bitcoinjs-lib's p2tr), and the PSBT passes the review every co-signer runs.
 */
import { HDKey } from '@scure/bip32';
import * as bitcoin from 'bitcoinjs-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EsploraClient } from '../../../main/chain/esplora.ts';
import { addressesOf } from '../../../main/chain/wallet-service.ts';
import { scanGroup } from '../../../main/chain/watcher.ts';
import { GroupKeysCache } from '../../../main/session/psbt-session.ts';
import { createSystemScheduler } from '../../../main/system-ports.ts';
import { syntheticXpub } from '../../../main/wallet/bip328.ts';
import { importPsbt } from '../../../main/wallet/psbt-import.ts';
import { reviewPsbt } from '../../../main/wallet/psbt-review.ts';
import { buildSend, RBF_SEQUENCE, type SendRequest } from '../../../main/wallet/send.ts';
import type { WalletState } from '../../../preload/contract.ts';
import { REGTEST, startEsploraServer, type EsploraServer } from '../../support/esplora-server.ts';
import { cosigners } from '../../support/psbt-fixtures.ts';
import { codeOf } from '../../support/error-code.ts';

const keys = new GroupKeysCache().of(cosigners(2, 'send').map((c) => c.publicKey));
const addressAt = addressesOf(keys, 'regtest');
const scheduler = createSystemScheduler();
const xpub = HDKey.fromExtendedKey(syntheticXpub(keys.group.aggregateKey, 'regtest'), { public: 0x043587cf, private: 0x04358394 });
function independentAddress(branch: number, index: number): string {
  const child = xpub.deriveChild(branch).deriveChild(index);
  return bitcoin.payments.p2tr({ internalPubkey: Buffer.from(child.publicKey!.subarray(1)), network: REGTEST }).address!;
}
const stranger = bitcoin.payments.p2tr({
  internalPubkey: Buffer.from(cosigners(1, 'payee')[0]!.publicKey.subarray(1)),
  network: REGTEST,
}).address!;
const p2wpkh = bitcoin.payments.p2wpkh({ hash: Buffer.alloc(20, 7), network: REGTEST }).address!;

/** What bitcoinjs-lib reads in the PSBT. */
function read(psbtBase64: string) {
  const psbt = bitcoin.Psbt.fromBase64(psbtBase64, { network: REGTEST });
  const totalIn = psbt.data.inputs.reduce((sum, input) => sum + Number(input.witnessUtxo!.value), 0);
  const outputs = psbt.txOutputs.map((o) => ({
    address: bitcoin.address.fromOutputScript(Buffer.from(o.script), REGTEST),
    value: Number(o.value),
  }));
  const totalOut = outputs.reduce((sum, o) => sum + o.value, 0);
  return { psbt, totalIn, outputs, fee: totalIn - totalOut, sequences: psbt.txInputs.map((i) => i.sequence) };
}

describe('building a spend of the group coins', () => {
  let server: EsploraServer;
  let state: WalletState;
  let client: EsploraClient;

  beforeAll(async () => {
    server = await startEsploraServer();
    const chain = server.chain;
    // Three confirmed coins (receive 0, receive 1, change 0), one unconfirmed receive coin.
    chain.pay([{ address: independentAddress(0, 0), value: 100_000 }]);
    chain.pay([{ address: independentAddress(0, 1), value: 250_000 }]);
    chain.pay([{ address: independentAddress(1, 0), value: 40_000 }]);
    chain.mine();
    chain.pay([{ address: independentAddress(0, 2), value: 500_000 }]);
    client = new EsploraClient({ baseUrl: server.url, fetch, scheduler, timeoutMs: 2000, backoffMs: 10 });
    state = await scanGroup(client, { addressAt, gapLimit: 5, now: () => 0 });
  });
  afterAll(async () => {
    await server.close();
  });

  it('fee estimates from the server: the documented shape is read, any other refused', async () => {
    expect(await client.feeEstimates()).toEqual(server.chain.feeEstimates);
    for (const body of ['{"3":-1}', '{"soon":5}', '[1,2]', '{"3":"8"}']) {
      server.fault(/^\/fee-estimates$/, { kind: 'rewrite', rewrite: () => body }, 1);
      await expect(client.feeEstimates()).rejects.toMatchObject({ code: 'CHAIN_INVALID_RESPONSE' });
    }
  });

  const build = (request: SendRequest) => buildSend(state, keys, 'regtest', request);

  it('pays the recipient, returns the change to the next change address, signals RBF, at the fee rate asked', () => {
    const built = build({ recipients: [{ address: stranger, amount: 120_000 }], feeRate: 5 });
    const { psbt, totalIn, outputs, fee, sequences } = read(built.psbtBase64);
    expect(outputs).toContainEqual({ address: stranger, value: 120_000 });
    // Change 0 is used: the next is change 1, derived independently.
    expect(built.change?.index).toBe(1);
    expect(built.change?.address).toBe(independentAddress(1, 1));
    expect(outputs).toContainEqual({ address: independentAddress(1, 1), value: built.change!.amount });
    expect(outputs).toHaveLength(2);
    expect(fee).toBe(built.fee);
    expect(totalIn).toBe(120_000 + built.change!.amount + built.fee);
    expect(sequences.every((s) => s === RBF_SEQUENCE)).toBe(true);
    // The unconfirmed payment to receive 2 is not spent.
    expect(psbt.txInputs.map((i) => Buffer.from(i.hash).reverse().toString('hex'))).not.toContain(
      state.utxos.find((u) => !u.confirmed)!.txid,
    );
    expect(built.fee).toBeGreaterThanOrEqual(5 * built.vsize);
    expect(built.fee).toBeLessThan(6 * built.vsize);

    const review = reviewPsbt(importPsbt(built.psbtBase64), keys, 'regtest');
    expect(review.signable).toBe(true);
    expect(review.fee).toBe(built.fee);
    expect(review.vsize).toBe(built.vsize);
    const changeOut = review.outputs.find((o) => o.address === independentAddress(1, 1))!;
    expect(changeOut.isChange).toBe(true);
    expect(changeOut.changePath).toEqual([1, 1]);
    expect(review.outputs.find((o) => o.address === stranger)!.isChange).toBe(false);
    expect(review.sent).toBe(120_000);
  });

  it('every input carries its witness UTXO, internal key and the group derivation of its address', () => {
    const built = build({
      recipients: [
        { address: stranger, amount: 300_000 },
        { address: p2wpkh, amount: 10_000 },
      ],
      feeRate: 2,
    });
    const { psbt } = read(built.psbtBase64);
    expect(psbt.data.inputs.length).toBeGreaterThanOrEqual(2);
    for (const input of psbt.data.inputs) {
      const [derivation] = input.tapBip32Derivation!;
      const path = derivation!.path.split('/').slice(1).map(Number);
      const child = xpub.deriveChild(path[0]!).deriveChild(path[1]!);
      expect(Buffer.from(input.tapInternalKey!).toString('hex')).toBe(Buffer.from(child.publicKey!.subarray(1)).toString('hex'));
      expect(bitcoin.address.fromOutputScript(Buffer.from(input.witnessUtxo!.script), REGTEST)).toBe(
        independentAddress(path[0]!, path[1]!),
      );
      expect(Buffer.from(derivation!.masterFingerprint).readUInt32BE(0)).toBe(xpub.fingerprint);
    }
    expect(reviewPsbt(importPsbt(built.psbtBase64), keys, 'regtest').signable).toBe(true);
  });

  it('sends everything: every spendable coin, one output, the fee taken from it, no change', () => {
    const built = build({ recipients: [{ address: stranger }], feeRate: 3, sendAll: true });
    const { totalIn, outputs, fee } = read(built.psbtBase64);
    expect(totalIn).toBe(100_000 + 250_000 + 40_000);
    expect(outputs).toEqual([{ address: stranger, value: totalIn - built.fee }]);
    expect(fee).toBe(built.fee);
    expect(built.fee).toBe(3 * built.vsize);
    expect(built.change).toBeNull();
    expect(reviewPsbt(importPsbt(built.psbtBase64), keys, 'regtest').signable).toBe(true);
  });

  it('refuses, in words: more than the coins, dust, another network, a bad fee rate', () => {
    expect(codeOf(() => build({ recipients: [{ address: stranger, amount: 389_000 }], feeRate: 10 }))).toBe('INSUFFICIENT_FUNDS');
    expect(codeOf(() => build({ recipients: [{ address: stranger, amount: 329 }], feeRate: 1 }))).toBe('DUST_OUTPUT');
    expect(codeOf(() => build({ recipients: [{ address: p2wpkh, amount: 293 }], feeRate: 1 }))).toBe('DUST_OUTPUT');
    expect(build({ recipients: [{ address: p2wpkh, amount: 294 }], feeRate: 1 }).amounts).toEqual([294]);
    const mainnet = bitcoin.payments.p2wpkh({ hash: Buffer.alloc(20, 7) }).address!;
    expect(codeOf(() => build({ recipients: [{ address: mainnet, amount: 10_000 }], feeRate: 1 }))).toBe('INVALID_INPUT');
    expect(codeOf(() => build({ recipients: [{ address: stranger, amount: 10_000 }], feeRate: 1.5 }))).toBe('INVALID_INPUT');
    expect(codeOf(() => build({ recipients: [{ address: stranger }, { address: p2wpkh }], feeRate: 1, sendAll: true }))).toBe(
      'INVALID_INPUT',
    );
    expect(
      codeOf(() => buildSend({ ...state, utxos: [] }, keys, 'regtest', { recipients: [{ address: stranger, amount: 1000 }], feeRate: 1 })),
    ).toBe('INSUFFICIENT_FUNDS');
  });

  it('a coin of a tampered saved state that is not at its address is refused', () => {
    const moved = { ...state, utxos: state.utxos.map((u) => ({ ...u, index: u.index + 1 })) };
    expect(codeOf(() => buildSend(moved, keys, 'regtest', { recipients: [{ address: stranger, amount: 1000 }], feeRate: 1 }))).toBe(
      'INVALID_INPUT',
    );
  });
});
