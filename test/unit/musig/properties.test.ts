import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { numberToBytesBE } from '@noble/curves/utils.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CosignerError } from '../../../main/errors.ts';
import {
  aggregateKeys,
  publicKeyOf,
  SigningBatch,
  verifySignature,
  withTaprootTweak,
  type KeyAggContext,
  type SecretNonce,
  type Tweak,
} from '../../../main/musig/index.ts';
import { prepareRound, runRound, secretKeyFromSeed } from './signing-round.ts';

const Fn = secp256k1.Point.Fn;
// Rounds cost a few ms per signer and message on this machine: modest runs keep the file in seconds.
const RUNS = 30;

const signerSet = fc
  .record({
    seeds: fc.array(fc.bigInt({ min: 1n, max: Fn.ORDER - 1n }), { minLength: 1, maxLength: 16 }),
    // BIP327 allows a key twice; its two positions then sign separately.
    duplicateFirst: fc.boolean(),
  })
  .map(({ seeds, duplicateFirst }) => {
    const secretKeys = seeds.map(secretKeyFromSeed);
    return duplicateFirst && secretKeys.length < 16 ? [...secretKeys, secretKeys[0] as Uint8Array] : secretKeys;
  });
const messagesArb = fc.array(fc.uint8Array({ maxLength: 80 }), { minLength: 1, maxLength: 4 });
const tweaksArb = fc.array(
  fc.record({ tweak: fc.bigInt({ min: 0n, max: Fn.ORDER - 1n }).map((t) => numberToBytesBE(t, 32)), xOnly: fc.boolean() }),
  { maxLength: 2 },
);
const seedArb = fc.uint8Array({ minLength: 16, maxLength: 16 });

function contextOf(secretKeys: readonly Uint8Array[], tweaks: readonly Tweak[], taproot: boolean): KeyAggContext {
  const ctx = aggregateKeys(secretKeys.map(publicKeyOf), tweaks);
  return taproot ? withTaprootTweak(ctx) : ctx;
}

function thrown(run: () => unknown): CosignerError {
  try {
    run();
  } catch (e) {
    if (e instanceof CosignerError) return e;
    throw e;
  }
  throw new Error('expected a CosignerError');
}

describe('MuSig2 engine properties', () => {
  it('1..16 signers sign batches of 1..4 messages that verify, with and without tweaks and the taproot tweak', () => {
    fc.assert(
      fc.property(signerSet, messagesArb, tweaksArb, fc.boolean(), seedArb, (secretKeys, messages, tweaks, taproot, seed) => {
        const ctx = contextOf(secretKeys, tweaks, taproot);
        const { batch, partials } = runRound(ctx, secretKeys, messages, seed);
        partials.forEach((list, i) => list.forEach((psig, m) => expect(batch.verifyPartial(i, m, psig)).toBe(true)));
        const signatures = batch.aggregate(partials);
        expect(signatures).toHaveLength(messages.length);
        signatures.forEach((signature, m) => {
          expect(verifySignature(signature, messages[m] as Uint8Array, ctx.xOnlyKey)).toBe(true);
          expect(verifySignature(signature, new Uint8Array([...(messages[m] as Uint8Array), 0]), ctx.xOnlyKey)).toBe(false);
        });
      }),
      { numRuns: RUNS },
    );
  });

  it('one tampered partial signature is blamed on exactly its signer and message', () => {
    fc.assert(
      fc.property(
        signerSet,
        messagesArb,
        fc.boolean(),
        seedArb,
        fc.nat(),
        fc.nat(),
        fc.constantFrom('shifted', 'out of range', "another signer's"),
        (secretKeys, messages, taproot, seed, signerPick, messagePick, how) => {
          const ctx = contextOf(secretKeys, [], taproot);
          const { batch, partials } = runRound(ctx, secretKeys, messages, seed);
          const signerIndex = signerPick % secretKeys.length;
          const messageIndex = messagePick % messages.length;
          const list = partials[signerIndex] as Uint8Array[];
          const original = list[messageIndex] as Uint8Array;
          const other = (partials[(signerIndex + 1) % partials.length] as Uint8Array[])[messageIndex] as Uint8Array;
          list[messageIndex] =
            how === 'shifted'
              ? Fn.toBytes(Fn.add(Fn.fromBytes(original), Fn.ONE))
              : how === 'out of range'
                ? numberToBytesBE(Fn.ORDER + (Fn.fromBytes(original) % 2n ** 32n), 32)
                : partials.length > 1
                  ? other
                  : Fn.toBytes(Fn.add(Fn.fromBytes(original), 2n));
          const e = thrown(() => batch.aggregate(partials));
          expect({ code: e.code, signerIndex: e.context.signerIndex, messageIndex: e.context.messageIndex }).toEqual({
            code: 'INVALID_PARTIAL_SIGNATURE',
            signerIndex,
            messageIndex,
          });
          expect(batch.verifyPartial(signerIndex, messageIndex, list[messageIndex] as Uint8Array)).toBe(false);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('a batch of many messages under one key (its aggregates checked with the key table) signs and blames the same', () => {
    const secretKeys = [11n, 22n, 33n].map(secretKeyFromSeed);
    const ctx = contextOf(secretKeys, [], true);
    const messages = Array.from({ length: 20 }, (_, i) => new Uint8Array([i, 1, 2]));
    const { batch, partials } = runRound(ctx, secretKeys, messages, new Uint8Array(16).fill(9));
    const signatures = batch.aggregate(partials);
    // Checked by noble itself, independently of the engine's own check.
    signatures.forEach((signature, m) => expect(schnorr.verify(signature, messages[m]!, ctx.xOnlyKey)).toBe(true));
    const list = partials[1] as Uint8Array[];
    list[17] = Fn.toBytes(Fn.add(Fn.fromBytes(list[17]!), Fn.ONE));
    const e = thrown(() => batch.aggregate(partials));
    expect({ code: e.code, signerIndex: e.context.signerIndex, messageIndex: e.context.messageIndex }).toEqual({
      code: 'INVALID_PARTIAL_SIGNATURE',
      signerIndex: 1,
      messageIndex: 17,
    });
  });

  it('a nonce handle is refused once used, in the same batch or across batches', () => {
    fc.assert(
      fc.property(signerSet, messagesArb, messagesArb, seedArb, fc.nat(), (secretKeys, first, second, seed, pick) => {
        const ctx = contextOf(secretKeys, [], false);
        const signerIndex = pick % secretKeys.length;
        const secretKey = secretKeys[signerIndex] as Uint8Array;
        const a = prepareRound(ctx, secretKeys, first, seed);
        const handles = a.secretNonces[signerIndex] as SecretNonce[];
        a.batch.sign(signerIndex, secretKey, handles);
        expect(thrown(() => a.batch.sign(signerIndex, secretKey, handles)).code).toBe('NONCE_REUSED');
        // A second batch over other messages that re-announces the same public nonces.
        const size = Math.min(first.length, second.length);
        const replay = new SigningBatch(
          ctx,
          second.slice(0, size),
          a.publicNonces.map((list) => list.slice(0, size)),
        );
        expect(thrown(() => replay.sign(signerIndex, secretKey, handles.slice(0, size))).code).toBe('NONCE_REUSED');
        // A fresh batch with its own nonces does not accept the old handles in its slots either.
        const b = prepareRound(ctx, secretKeys, second.slice(0, size), new Uint8Array([...seed, 1]));
        expect(thrown(() => b.batch.sign(signerIndex, secretKey, handles.slice(0, size))).code).toBe('NONCE_REUSED');
        expect(b.batch.sign(signerIndex, secretKey, b.secretNonces[signerIndex] as SecretNonce[])).toHaveLength(size);
      }),
      { numRuns: 15 },
    );
  });
});
