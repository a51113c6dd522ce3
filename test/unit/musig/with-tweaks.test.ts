import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { aggregateKeys, publicKeyOf, withTweaks, type Tweak } from '../../../main/musig/index.ts';

const secret = fc.uint8Array({ minLength: 32, maxLength: 32 }).filter((b) => secp256k1.utils.isValidSecretKey(b));
const tweak = fc.record({ tweak: secret, xOnly: fc.boolean() });

describe('withTweaks', () => {
  it('adding tweaks to a context gives what aggregating with all of them gives', () => {
    fc.assert(
      fc.property(
        fc.array(secret, { minLength: 1, maxLength: 5 }),
        fc.array(tweak, { maxLength: 3 }),
        fc.array(tweak, { minLength: 1, maxLength: 3 }),
        (sks, first, more) => {
          const keys = sks.map(publicKeyOf);
          const stepwise = withTweaks(aggregateKeys(keys, first as Tweak[]), more as Tweak[]);
          const atOnce = aggregateKeys(keys, [...first, ...more] as Tweak[]);
          expect(bytesToHex(stepwise.aggregateKey)).toBe(bytesToHex(atOnce.aggregateKey));
          expect(stepwise.tweaks).toHaveLength(first.length + more.length);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('refuses a context it did not make and a tweak not below n, naming the tweak', () => {
    const ctx = aggregateKeys([publicKeyOf(new Uint8Array(32).fill(1))]);
    expect(() => withTweaks({ ...ctx }, [])).toThrow(/not made by aggregateKeys/);
    expect(() => withTweaks(ctx, [{ tweak: new Uint8Array(32).fill(0xff), xOnly: false }])).toThrow(
      expect.objectContaining({ code: 'INVALID_TWEAK', context: { tweakIndex: 0 } }),
    );
  });
});

describe('aggregateKeys for a signer set seen before', () => {
  it('gives an equal context whose bytes are its own', () => {
    const keys = [1, 2, 3].map((b) => publicKeyOf(new Uint8Array(32).fill(b)));
    const first = aggregateKeys(keys);
    const expected = bytesToHex(first.aggregateKey);
    first.aggregateKey.fill(0);
    (first.publicKeys[0] as Uint8Array).fill(0);
    const second = aggregateKeys(keys);
    expect(second).not.toBe(first);
    expect(bytesToHex(second.aggregateKey)).toBe(expected);
    expect(bytesToHex(second.publicKeys[0]!)).toBe(bytesToHex(keys[0]!));
  });
});
