import fc from 'fast-check';
import encodeQR from 'qr';
import { describe, expect, test } from 'vitest';
import { PsbtRefusalCode, PsbtReview, PsbtText } from '../../../preload/contract.ts';
import { wordsFor } from '../../../renderer/src/error-words.ts';
import {
  fitsInQr,
  formatBtc,
  formatFeeRate,
  formatSats,
  psbtFileBytes,
  psbtTextFromFile,
  QR_MAX_BYTES,
  refusalWords,
  groupOutputWords,
  reviewSummary,
  shortOutpoint,
  warningWords,
} from '../../../renderer/src/lib/psbt.ts';
import { formatRoute, parseRoute } from '../../../renderer/src/lib/routes.ts';

const MAX_SATS = 2_100_000_000_000_000;
const TXID = 'ab'.repeat(32);
const GROUP_ID = 'cd'.repeat(32);

/** Bytes starting with the PSBT magic: all the file reader looks at (it does not parse the PSBT). */
const PSBT_BYTES = new Uint8Array([0x70, 0x73, 0x62, 0x74, 0xff, 0x00, 0x01, 0x02, 0x03]);

function review(extra: Partial<PsbtReview> = {}): PsbtReview {
  return PsbtReview.parse({
    network: 'mainnet',
    psbtVersion: 0,
    txVersion: 2,
    lockTime: 0,
    inputs: [
      { index: 0, txid: TXID, vout: 1, amount: 150_000, address: 'bc1pgroup', path: [], sighash: 'DEFAULT', refusal: null },
      {
        index: 1,
        txid: TXID,
        vout: 2,
        amount: 50_000,
        address: 'bc1pother',
        path: null,
        sighash: 'DEFAULT',
        refusal: { code: 'not-ours', reason: 'not the group' },
      },
    ],
    outputs: [
      {
        index: 0,
        amount: 120_000,
        address: 'bc1pfriend',
        script: '5120' + '11'.repeat(32),
        kind: 'address',
        isChange: false,
        changePath: null,
      },
      {
        index: 1,
        amount: 79_000,
        address: 'bc1pchange',
        script: '5120' + '22'.repeat(32),
        kind: 'address',
        isChange: true,
        changePath: [1, 0],
      },
      { index: 2, amount: 0, address: null, script: '6a0568656c6c6f', kind: 'op_return', isChange: false, changePath: null },
    ],
    totalIn: 200_000,
    totalOut: 199_000,
    sent: 120_000,
    fee: 1_000,
    weight: 800,
    vsize: 200,
    feeRate: 5,
    signable: false,
    digest: 'ee'.repeat(32),
    warnings: [],
    ...extra,
  });
}

describe('amounts from integer satoshis', () => {
  test('bitcoin with all 8 decimals, grouped whole part', () => {
    expect(formatBtc(0)).toBe('0.00000000');
    expect(formatBtc(1)).toBe('0.00000001');
    expect(formatBtc(5_000_000)).toBe('0.05000000');
    expect(formatBtc(100_000_000)).toBe('1.00000000');
    expect(formatBtc(123_456_789_012)).toBe('1,234.56789012');
    expect(formatBtc(MAX_SATS)).toBe('21,000,000.00000000');
    expect(formatBtc(MAX_SATS - 1)).toBe('20,999,999.99999999');
  });

  test('exact for every amount up to 21 million bitcoin: the digits are the satoshis', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_SATS }), (sats) => {
        expect(BigInt(formatBtc(sats).replace(/[,.]/g, ''))).toBe(BigInt(sats));
        expect(formatSats(sats).replace(/[, a-z]/g, '')).toBe(String(sats));
      }),
    );
  });

  test('satoshis grouped by three; a fractional or negative amount is refused, not rounded', () => {
    expect(formatSats(0)).toBe('0 sat');
    expect(formatSats(1_234_567)).toBe('1,234,567 sat');
    expect(() => formatBtc(1.5)).toThrow(RangeError);
    expect(() => formatBtc(-1)).toThrow(RangeError);
    expect(() => formatSats(Number.MAX_SAFE_INTEGER + 1)).toThrow(RangeError);
  });

  test('fee rate with two decimals; outpoint shortened with its index', () => {
    expect(formatFeeRate(5)).toBe('5.00 sat/vB');
    expect(formatFeeRate(12.34)).toBe('12.34 sat/vB');
    expect(shortOutpoint(TXID, 7)).toBe('abababab…abababab:7');
  });
});

describe('refusals and warnings in words', () => {
  test('every refusal code has its own words', () => {
    const words = PsbtRefusalCode.options.map((code) => refusalWords(code));
    expect(words.every((w) => w.length > 20)).toBe(true);
    expect(new Set(words).size).toBe(PsbtRefusalCode.options.length);
  });

  test('PSBT_REFUSED names the count and the first refused input in words, or the other network', () => {
    const words = wordsFor('PSBT_REFUSED', { input: 1, code: 'not-ours', refused: 1, inputs: 2 });
    expect(words).toContain('1 of 2 inputs');
    expect(words).toContain(`Input 1: ${refusalWords('not-ours')}`);
    expect(wordsFor('PSBT_REFUSED', { network: 'testnet' })).toContain('testnet');
    // An unknown refusal code falls back to the plain words rather than inventing a reason.
    expect(wordsFor('PSBT_REFUSED', { input: 0, code: 'new-code', refused: 1, inputs: 1 })).toBe(wordsFor('PSBT_REFUSED'));
  });

  test('a high fee warning quotes the fee and rate', () => {
    const r = review({ fee: 150_000, feeRate: 750, warnings: ['high-fee'] });
    expect(warningWords('high-fee', r)).toContain('0.00150000 BTC (750.00 sat/vB)');
    expect(warningWords('non-default-sighash', r)).toMatch(/sighash/);
  });
});

describe('where the money goes', () => {
  test('recipients are the outputs that are not change; change is summed; refused inputs listed', () => {
    const summary = reviewSummary(review());
    expect(summary.recipients.map((o) => o.index)).toEqual([0, 2]);
    expect(summary.change.map((o) => o.index)).toEqual([1]);
    expect(summary.changeTotal).toBe(79_000);
    expect(summary.refusedInputs.map((i) => i.index)).toEqual([1]);
    // The back end's `sent` is the same split: everything out that is not change.
    const r = review();
    expect(summary.recipients.reduce((s, o) => s + o.amount, 0)).toBe(r.sent);
    expect(r.sent + summary.changeTotal + summary.toGroupTotal).toBe(r.totalOut);
  });

  test('change detection: an output to the group is called change only on the change branch', () => {
    const out = (isChange: boolean, changePath: number[] | null) => ({
      index: 0,
      amount: 5,
      address: 'bc1px',
      script: '51',
      kind: 'address' as const,
      isChange,
      changePath,
    });
    expect(groupOutputWords(out(true, [1, 4]))).toBe('change (back to this group)');
    expect(groupOutputWords(out(false, [0, 3]))).toBe('to the group (receive address), not change');
    for (const path of [[], [0, 3, 1], [2, 5], [7, 7, 7, 7, 7, 7, 7, 7]])
      expect(groupOutputWords(out(false, path))).toBe('to the group, not change');
    expect(groupOutputWords(out(false, null))).toBeNull();
    const summary = reviewSummary(
      review({ outputs: [out(true, [1, 4]), { ...out(false, [0, 3]), index: 1 }, { ...out(false, null), index: 2 }] }),
    );
    expect([summary.change, summary.toGroup, summary.recipients].map((list) => list.map((o) => o.index))).toEqual([[0], [1], [2]]);
  });

  test('no change: everything out is sent to others', () => {
    const r = review({
      outputs: [{ index: 0, amount: 10, address: 'bc1px', script: '51', kind: 'unknown', isChange: false, changePath: null }],
    });
    expect(reviewSummary(r)).toMatchObject({ changeTotal: 0, change: [] });
  });
});

describe('reading a PSBT file', () => {
  test('a binary PSBT becomes base64 (cHNidP8…) that the contract accepts, and back to the same bytes', () => {
    const text = psbtTextFromFile(PSBT_BYTES);
    expect(text.startsWith('cHNidP8')).toBe(true);
    expect(PsbtText.safeParse(text).success).toBe(true);
    expect([...psbtFileBytes(text)]).toEqual([...PSBT_BYTES]);
  });

  test('a text file of hex or base64 is its text, trimmed', () => {
    const encoder = new TextEncoder();
    expect(psbtTextFromFile(encoder.encode('70736274ff0001\n'))).toBe('70736274ff0001');
    expect(psbtTextFromFile(encoder.encode('\r\n cHNidP8AAQ==\r\n'))).toBe('cHNidP8AAQ==');
  });

  test('a file that is neither is passed on as text for the contract to refuse', () => {
    const text = psbtTextFromFile(new TextEncoder().encode('hello, world'));
    expect(PsbtText.safeParse(text).success).toBe(false);
  });
});

describe('QR codes', () => {
  test('the limit is what the QR encoder holds at error correction M', () => {
    expect(() => encodeQR('a'.repeat(QR_MAX_BYTES), 'svg', { ecc: 'medium' })).not.toThrow();
    expect(() => encodeQR('a'.repeat(QR_MAX_BYTES + 1), 'svg', { ecc: 'medium' })).toThrow();
    expect(fitsInQr('ab'.repeat(QR_MAX_BYTES / 2 - 1))).toBe(true);
    expect(fitsInQr('a'.repeat(QR_MAX_BYTES + 1))).toBe(false);
  });
});

describe('wallet route', () => {
  test('a group wallet is addressed by the group id', () => {
    expect(parseRoute(`#view=wallet/${GROUP_ID}`)).toEqual({ name: 'wallet', groupId: GROUP_ID });
    expect(formatRoute({ name: 'wallet', groupId: GROUP_ID }, '#token=x')).toBe(`#token=x&view=wallet/${GROUP_ID}`);
    expect(parseRoute('#view=wallet/nothex')).toEqual({ name: 'home' });
  });
});
