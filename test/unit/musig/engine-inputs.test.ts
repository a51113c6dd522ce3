import { describe, expect, it } from 'vitest';
import { CosignerError } from '../../../main/errors.ts';
import { aggregateKeys, aggregateNonces, publicKeyOf, sortKeys, SigningBatch, verifySignature } from '../../../main/musig/index.ts';
import { runRound, secretKeyFromSeed } from './signing-round.ts';

const secretKeys = [3n, 4n].map(secretKeyFromSeed);
const ctx = aggregateKeys(secretKeys.map(publicKeyOf));
const messages = [new Uint8Array(32), new Uint8Array(3)];

function failure(run: () => unknown): { code: string; context: Record<string, unknown> } {
  try {
    run();
  } catch (e) {
    if (e instanceof CosignerError) return { code: e.code, context: e.context };
    throw e;
  }
  throw new Error('expected a CosignerError');
}

describe('engine input checks', () => {
  it('names the signer of a malformed key or nonce, and no signer for a caller mistake', () => {
    expect(failure(() => sortKeys([new Uint8Array(33), new Uint8Array(32)]))).toEqual({
      code: 'INVALID_PUBLIC_KEY',
      context: { signerIndex: 1 },
    });
    expect(failure(() => aggregateKeys([]))).toMatchObject({ code: 'INVALID_INPUT' });
    expect(failure(() => aggregateKeys(ctx.publicKeys, [{ tweak: new Uint8Array(31), xOnly: true }]))).toEqual({
      code: 'INVALID_TWEAK',
      context: { tweakIndex: 0 },
    });
    expect(failure(() => aggregateNonces([]))).toMatchObject({ code: 'INVALID_INPUT' });
    expect(failure(() => publicKeyOf(new Uint8Array(31)))).toMatchObject({ code: 'INVALID_SECRET_KEY' });
    const { publicNonces } = runRound(ctx, secretKeys, messages, new Uint8Array(1));
    expect(failure(() => new SigningBatch(ctx, messages, [publicNonces[0] as Uint8Array[]]))).toMatchObject({ code: 'INVALID_INPUT' });
    expect(failure(() => new SigningBatch(ctx, messages, [publicNonces[0] as Uint8Array[], [new Uint8Array(66)]]))).toEqual({
      code: 'INVALID_PUBLIC_NONCE',
      context: { signerIndex: 1 },
    });
    const zero = [publicNonces[0] as Uint8Array[], [publicNonces[1]?.[0] as Uint8Array, new Uint8Array(66)]];
    expect(failure(() => new SigningBatch(ctx, messages, zero))).toEqual({
      code: 'INVALID_PUBLIC_NONCE',
      context: { signerIndex: 1, messageIndex: 1 },
    });
    expect(failure(() => new SigningBatch({ ...ctx }, messages, publicNonces))).toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('checks the shape of partial signatures and indices', () => {
    const { batch, partials } = runRound(ctx, secretKeys, messages, new Uint8Array(2));
    expect(failure(() => batch.aggregate([partials[0] as Uint8Array[]]))).toMatchObject({ code: 'INVALID_INPUT' });
    expect(failure(() => batch.aggregate([partials[0] as Uint8Array[], [partials[1]?.[0] as Uint8Array]]))).toEqual({
      code: 'INVALID_PARTIAL_SIGNATURE',
      context: { signerIndex: 1 },
    });
    const short = [partials[0] as Uint8Array[], [partials[1]?.[0] as Uint8Array, new Uint8Array(31)]];
    expect(failure(() => batch.aggregate(short))).toEqual({
      code: 'INVALID_PARTIAL_SIGNATURE',
      context: { signerIndex: 1, messageIndex: 1 },
    });
    expect(failure(() => batch.verifyPartial(2, 0, new Uint8Array(32)))).toMatchObject({ code: 'INVALID_INPUT' });
    expect(failure(() => batch.verifyPartial(0, 2, new Uint8Array(32)))).toMatchObject({ code: 'INVALID_INPUT' });
    expect(batch.verifyPartial(0, 0, new Uint8Array(31))).toBe(false);
    const signatures = batch.aggregate(partials);
    expect(verifySignature((signatures[0] as Uint8Array).subarray(1), messages[0] as Uint8Array, ctx.xOnlyKey)).toBe(false);
    expect(verifySignature(signatures[0] as Uint8Array, messages[0] as Uint8Array, ctx.aggregateKey)).toBe(false);
  });
});
