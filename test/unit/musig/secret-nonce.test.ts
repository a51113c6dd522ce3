import { bytesToHex } from '@noble/curves/utils.js';
import { nonceGen } from '@scure/btc-signer/musig2.js';
import { inspect } from 'node:util';
import { serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { CosignerError, type ErrorCode } from '../../../main/errors.ts';
import { aggregateKeys, generateNonce, publicKeyOf, SigningBatch, type SecretNonce } from '../../../main/musig/index.ts';
import { adoptSecretNonce, discardSecretNonce } from '../../../main/musig/nonce.ts';
import { prepareRound, secretKeyFromSeed } from './signing-round.ts';

const secretKeys = [11n, 22n, 33n].map(secretKeyFromSeed);
const ctx = aggregateKeys(secretKeys.map(publicKeyOf));
const messages = [new Uint8Array(32).fill(7), new TextEncoder().encode('second input')];
const rand = new Uint8Array(32).fill(9);

function codeOf(run: () => unknown): ErrorCode | undefined {
  try {
    run();
  } catch (e) {
    if (e instanceof CosignerError) return e.code;
    throw e;
  }
  return undefined;
}

describe('secret nonce handle', () => {
  // The same inputs through the library give the bytes the handle holds, so we can look for them.
  const secretKey = secretKeys[0] as Uint8Array;
  const expected = nonceGen(publicKeyOf(secretKey), secretKey, ctx.xOnlyKey, messages[0], new Uint8Array(0), rand);
  const secretHex = bytesToHex(expected.secret.subarray(0, 64));
  const k1Hex = secretHex.slice(0, 64);

  it('holds the library nonce for the same inputs', () => {
    const { publicNonce } = generateNonce({ secretKey, ctx, message: messages[0] as Uint8Array, rand });
    expect(publicNonce).toEqual(expected.public);
  });

  it('never reveals its bytes to JSON.stringify, util.inspect, structuredClone or v8.serialize', () => {
    const { secretNonce } = generateNonce({ secretKey, ctx, message: messages[0] as Uint8Array, rand });
    const json = JSON.stringify({ secretNonce });
    expect(json).toBe('{"secretNonce":{"secretNonce":"redacted","consumed":false}}');
    const shown = inspect(secretNonce, { showHidden: true, depth: Infinity, getters: true });
    expect(shown).toBe('SecretNonce { consumed: false }');
    expect(Reflect.ownKeys(secretNonce)).toEqual([]);
    const clone = structuredClone(secretNonce) as unknown;
    expect(clone).toEqual({});
    // A clone is no handle: signing with it is refused.
    expect(bytesToHex(serialize(secretNonce))).not.toContain(k1Hex);
    for (const text of [json, shown, JSON.stringify(clone), String(secretNonce)]) {
      expect(text.toLowerCase()).not.toContain(k1Hex);
    }
    const others = prepareRound(ctx, secretKeys, [messages[0] as Uint8Array], rand).publicNonces.slice(1);
    const batch = new SigningBatch(ctx, [messages[0] as Uint8Array], [[expected.public], ...others]);
    expect(codeOf(() => batch.sign(0, secretKey, [clone as SecretNonce]))).toBe('INVALID_INPUT');
    expect(codeOf(() => batch.sign(0, secretKey, [{ consumed: false }]))).toBe('INVALID_INPUT');
    expect(batch.sign(0, secretKey, [secretNonce])).toHaveLength(1);
  });

  it('signing consumes the nonce and zeroizes its bytes; a second use throws NONCE_REUSED', () => {
    const round = prepareRound(ctx, secretKeys, messages, rand);
    // Adopting our own buffer lets the test watch the very bytes the engine signs with.
    const buffers = messages.map((message) => nonceGen(publicKeyOf(secretKey), secretKey, ctx.xOnlyKey, message));
    const handles = buffers.map((n) => adoptSecretNonce(n.secret, n.public));
    const publicNonces = [buffers.map((n) => n.public), ...round.publicNonces.slice(1)];
    const batch = new SigningBatch(ctx, messages, publicNonces);
    expect(handles.map((h) => h.consumed)).toEqual([false, false]);
    batch.sign(0, secretKey, handles);
    expect(handles.map((h) => h.consumed)).toEqual([true, true]);
    for (const n of buffers) expect(n.secret.every((byte) => byte === 0)).toBe(true);
    expect(codeOf(() => batch.sign(0, secretKey, handles))).toBe('NONCE_REUSED');
    // Another batch over the same announced nonces (a replayed session) refuses them too.
    const replay = new SigningBatch(ctx, [new Uint8Array(32), new Uint8Array(1)], publicNonces);
    expect(codeOf(() => replay.sign(0, secretKey, handles))).toBe('NONCE_REUSED');
  });

  it('is zeroized even when signing fails after taking it', () => {
    const message = messages[0] as Uint8Array;
    const others = prepareRound(ctx, secretKeys, [message], rand).publicNonces.slice(1);
    // A secnonce whose embedded key is another signer's passes every public check, then fails.
    const foreign = nonceGen(publicKeyOf(secretKeys[1] as Uint8Array), secretKeys[1], ctx.xOnlyKey, message);
    const handle = adoptSecretNonce(foreign.secret, foreign.public);
    const batch = new SigningBatch(ctx, [message], [[foreign.public], ...others]);
    expect(codeOf(() => batch.sign(0, secretKey, [handle]))).toBe('INVALID_INPUT');
    expect(handle.consumed).toBe(true);
    expect(foreign.secret.subarray(0, 64).every((byte) => byte === 0)).toBe(true);
  });

  it('unused secret nonces dropped are zeroized: the buffer a handle held is all zeros, and it can sign no more', () => {
    // An attempt change, an end or cleanup drops nonces that never signed; their bytes must not linger.
    const buffers = messages.map((message) => nonceGen(publicKeyOf(secretKey), secretKey, ctx.xOnlyKey, message));
    const handles = buffers.map((n) => adoptSecretNonce(n.secret, n.public));
    for (const handle of handles) discardSecretNonce(handle);
    for (const n of buffers) expect(n.secret.every((byte) => byte === 0)).toBe(true);
    expect(handles.map((h) => h.consumed)).toEqual([true, true]);
    const round = prepareRound(ctx, secretKeys, messages, rand);
    const batch = new SigningBatch(ctx, messages, [buffers.map((n) => n.public), ...round.publicNonces.slice(1)]);
    expect(codeOf(() => batch.sign(0, secretKey, handles))).toBe('NONCE_REUSED');
    // Dropping one already used or dropped is harmless.
    expect(() => discardSecretNonce(handles[0] as SecretNonce)).not.toThrow();
  });

  it('refuses, without consuming anything, a handle given twice, one in the wrong slot, or the wrong key', () => {
    const round = prepareRound(ctx, secretKeys, messages, rand);
    const [first, second] = round.secretNonces[0] as [SecretNonce, SecretNonce];
    expect(codeOf(() => round.batch.sign(0, secretKey, [first, first]))).toBe('NONCE_REUSED');
    expect(codeOf(() => round.batch.sign(0, secretKey, [second, first]))).toBe('INVALID_INPUT');
    expect(codeOf(() => round.batch.sign(1, secretKey, [first, second]))).toBe('INVALID_INPUT');
    expect(codeOf(() => round.batch.sign(0, secretKey, [first]))).toBe('INVALID_INPUT');
    expect([first.consumed, second.consumed]).toEqual([false, false]);
    expect(round.batch.sign(0, secretKey, [first, second])).toHaveLength(2);
  });

  it('is only generated for a signer of the context', () => {
    const outsider = secretKeyFromSeed(44n);
    expect(codeOf(() => generateNonce({ secretKey: outsider, ctx, message: new Uint8Array(0) }))).toBe('INVALID_INPUT');
    expect(codeOf(() => generateNonce({ secretKey: new Uint8Array(32), ctx, message: new Uint8Array(0) }))).toBe('INVALID_SECRET_KEY');
  });

  it('draws 32 fresh random bytes when no rand is injected', () => {
    const a = generateNonce({ secretKey, ctx, message: messages[0] as Uint8Array });
    const b = generateNonce({ secretKey, ctx, message: messages[0] as Uint8Array });
    expect(a.publicNonce).not.toEqual(b.publicNonce);
  });
});
