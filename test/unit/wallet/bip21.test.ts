/** BIP21 payment URIs read for the Send form (the BIP's own examples, adapted to our networks). */
import * as bitcoin from 'bitcoinjs-lib';
import { describe, expect, it } from 'vitest';
import { btcToSats, parsePaymentUri } from '../../../main/wallet/bip21.ts';
import { feeRateFromEstimates } from '../../../main/wallet/send.ts';
import { codeOf } from '../../support/error-code.ts';

const mainnet = bitcoin.payments.p2wpkh({ hash: Buffer.alloc(20, 1) }).address!;
const legacy = bitcoin.payments.p2pkh({ hash: Buffer.alloc(20, 2) }).address!;
const regtest = bitcoin.payments.p2wpkh({ hash: Buffer.alloc(20, 1), network: bitcoin.networks.regtest }).address!;

describe('BIP21 payment URIs', () => {
  it('reads the address, the amount in bitcoin as satoshis, the label and the message', () => {
    expect(parsePaymentUri(`bitcoin:${legacy}?amount=20.3&label=Luke-Jr`, 'mainnet')).toEqual({
      address: legacy,
      amount: 2_030_000_000,
      label: 'Luke-Jr',
      message: null,
    });
    expect(parsePaymentUri(`bitcoin:${legacy}?amount=50&label=Luke-Jr&message=Donation%20for%20project%20xyz`, 'mainnet')).toEqual({
      address: legacy,
      amount: 5_000_000_000,
      label: 'Luke-Jr',
      message: 'Donation for project xyz',
    });
    expect(parsePaymentUri(`  BITCOIN:${mainnet.toUpperCase()}?amount=0.00001  `, 'mainnet')).toEqual({
      address: mainnet,
      amount: 1000,
      label: null,
      message: null,
    });
    expect(parsePaymentUri(regtest, 'regtest')).toEqual({ address: regtest, amount: null, label: null, message: null });
  });

  it('ignores unknown parameters but refuses an unknown req- parameter', () => {
    expect(parsePaymentUri(`bitcoin:${legacy}?somethingyoudontunderstand=50&somethingelseyoudontget=999`, 'mainnet').address).toBe(legacy);
    expect(
      codeOf(() => parsePaymentUri(`bitcoin:${legacy}?req-somethingyoudontunderstand=50&req-somethingelseyoudontget=999`, 'mainnet')),
    ).toBe('INVALID_INPUT');
    expect(codeOf(() => parsePaymentUri(`bitcoin:${legacy}?amount=1&amount=2`, 'mainnet'))).toBe('INVALID_INPUT');
  });

  it('refuses an address of another network, and amounts that are not plain decimal bitcoin', () => {
    expect(codeOf(() => parsePaymentUri(`bitcoin:${mainnet}`, 'testnet'))).toBe('INVALID_INPUT');
    expect(codeOf(() => parsePaymentUri('bitcoin:?amount=1', 'mainnet'))).toBe('INVALID_INPUT');
    for (const bad of ['1e3', '-1', '0.000000001', '1,5', '0', '21000001', '']) {
      expect(codeOf(() => parsePaymentUri(`bitcoin:${mainnet}?amount=${bad}`, 'mainnet'))).toBe('INVALID_INPUT');
    }
    expect(btcToSats('0.1')).toBe(10_000_000);
    expect(btcToSats('21000000')).toBe(2_100_000_000_000_000);
    expect(btcToSats('0.00000001')).toBe(1);
  });
});

describe('fee rate from the server estimates', () => {
  it('takes the 3-block estimate (or the nearest faster), rounded up, at least 1 sat/vB', () => {
    expect(feeRateFromEstimates({ '1': 20.5, '2': 12.1, '3': 8.3, '6': 4.2 })).toBe(9);
    expect(feeRateFromEstimates({ '1': 20.5, '2': 12.1, '6': 4.2 })).toBe(13);
    expect(feeRateFromEstimates({ '6': 4.2, '144': 1.01 })).toBe(5);
    expect(feeRateFromEstimates({ '3': 0.5 })).toBe(1);
    expect(codeOf(() => feeRateFromEstimates({}))).toBe('CHAIN_INVALID_RESPONSE');
  });
});
