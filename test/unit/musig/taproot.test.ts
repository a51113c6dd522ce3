import { p2tr } from '@scure/btc-signer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aggregateKeys, publicKeyOf, verifySignature, withTaprootTweak } from '../../../main/musig/index.ts';
import { runRound, secretKeyFromSeed } from './signing-round.ts';

describe('BIP341 key-path taproot tweak', () => {
  it('gives the output key @scure/btc-signer p2tr computes, and signatures verify under it', () => {
    fc.assert(
      fc.property(
        fc.array(fc.bigInt({ min: 1n, max: 2n ** 255n }), { minLength: 1, maxLength: 8 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (seeds, message) => {
          const secretKeys = seeds.map(secretKeyFromSeed);
          const internal = aggregateKeys(secretKeys.map(publicKeyOf));
          const output = withTaprootTweak(internal);
          const payment = p2tr(internal.xOnlyKey);
          expect(output.xOnlyKey).toEqual(payment.tweakedPubkey);
          expect(output.tweaks.at(-1)?.xOnly).toBe(true);
          expect(output.publicKeys).toEqual(internal.publicKeys);
          const round = runRound(output, secretKeys, [message], message);
          const [signature] = round.batch.aggregate(round.partials);
          expect(verifySignature(signature as Uint8Array, message, payment.tweakedPubkey)).toBe(true);
          expect(verifySignature(signature as Uint8Array, message, internal.xOnlyKey)).toBe(false);
        },
      ),
      { numRuns: 10 },
    );
  });

  it('refuses a context it did not make', () => {
    const ctx = aggregateKeys([publicKeyOf(secretKeyFromSeed(5n))]);
    expect(() => withTaprootTweak({ ...ctx })).toThrow(/not made by aggregateKeys/);
  });
});
