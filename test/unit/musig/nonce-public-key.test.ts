import { describe, expect, it } from 'vitest';
import { aggregateKeys, generateNonce, publicKeyOf, SigningBatch, verifySignature } from '../../../main/musig/index.ts';

const sk = [1, 2].map((b) => new Uint8Array(32).fill(b));
const pk = sk.map(publicKeyOf);
const ctx = aggregateKeys(pk);
const message = new Uint8Array(32).fill(7);

describe('generateNonce with the public key given', () => {
  it('signs as without it when the key is the signer’s own', () => {
    const n = sk.map((s, i) => generateNonce({ secretKey: s, publicKey: pk[i], ctx, message }));
    const batch = new SigningBatch(
      ctx,
      [message],
      n.map((x) => [x.publicNonce]),
    );
    const partials = sk.map((s, i) => batch.sign(i, s, [n[i]!.secretNonce]));
    const [sig] = batch.aggregate(partials);
    expect(verifySignature(sig!, message, ctx.xOnlyKey)).toBe(true);
  });

  it('a nonce made with another signer’s public key cannot sign for this secret key', () => {
    const wrong = generateNonce({ secretKey: sk[0]!, publicKey: pk[1], ctx, message });
    const other = generateNonce({ secretKey: sk[1]!, ctx, message });
    const batch = new SigningBatch(ctx, [message], [[wrong.publicNonce], [other.publicNonce]]);
    expect(() => batch.sign(0, sk[0]!, [wrong.secretNonce])).toThrow();
  });

  it('refuses a public key of the wrong length', () => {
    expect(() => generateNonce({ secretKey: sk[0]!, publicKey: new Uint8Array(32), ctx, message })).toThrow(/33 bytes/);
  });
});
