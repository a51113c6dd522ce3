import { describe, expect, it } from 'vitest';
import { btcTextToSats, handOver, satsToBtcText, takeDraft } from '../../../renderer/src/lib/send-draft.ts';

describe('the Send form helpers', () => {
  it('reads bitcoin amounts as exact satoshis, and writes them back the same', () => {
    expect(btcTextToSats('0.001')).toBe(100_000);
    expect(btcTextToSats(' 1.5 ')).toBe(150_000_000);
    expect(btcTextToSats('0.00000001')).toBe(1);
    expect(btcTextToSats('21000000')).toBe(2_100_000_000_000_000);
    for (const bad of ['', '0', '1e3', '-1', '0.000000001', '1,5', '21000000.00000001', '.5']) expect(btcTextToSats(bad)).toBeNull();
    for (const sats of [1, 100_000, 150_000_000, 2_100_000_000_000_000, 123_456_789]) expect(btcTextToSats(satsToBtcText(sats))).toBe(sats);
    expect(satsToBtcText(100_000)).toBe('0.001');
    expect(satsToBtcText(200_000_000)).toBe('2');
  });

  it('hands a built PSBT to the request screen once, for its group only', () => {
    handOver('a'.repeat(64), 'cHNidP8B');
    expect(takeDraft('b'.repeat(64))).toBeNull();
    handOver('a'.repeat(64), 'cHNidP8B');
    expect(takeDraft('a'.repeat(64))).toEqual({ psbtBase64: 'cHNidP8B', path: undefined });
    expect(takeDraft('a'.repeat(64))).toBeNull();
  });

  it('hands over the path the PSBT was built for with it', () => {
    const path = { kind: 'leaf' as const, signers: ['02' + '1'.repeat(64), '03' + '2'.repeat(64)] };
    handOver('a'.repeat(64), 'cHNidP8B', path);
    expect(takeDraft('a'.repeat(64))).toEqual({ psbtBase64: 'cHNidP8B', path });
  });
});
