import { deterministicSign } from '@scure/btc-signer/musig2.js';
import { describe, expect, it } from 'vitest';
import { aggregateKeys, aggregateNonces, SigningBatch, verifySignature } from '../../../main/musig/index.ts';
import { keyAggInternals, type Tweak } from '../../../main/musig/key-agg.ts';
import { adoptSecretNonce } from '../../../main/musig/nonce.ts';
import { sessionValues } from '../../../main/musig/session-values.ts';
import { partialSigValid } from '../../../main/musig/verify.ts';
import { caseName, expectLibraryError, expectVectorError, hex, loadBip327, toHex, type VectorError } from './bip327.ts';

type SignVerifyVectors = {
  sk: string;
  pubkeys: string[];
  secnonces: string[];
  pnonces: string[];
  aggnonces: string[];
  msgs: string[];
  valid_test_cases: SignCase[];
  sign_error_test_cases: (Omit<SignCase, 'expected' | 'nonce_indices' | 'signer_index'> & {
    signer_index?: number;
    secnonce_index: number;
    error: VectorError;
  })[];
  verify_fail_test_cases: VerifyCase[];
  verify_error_test_cases: (VerifyCase & { error: VectorError })[];
};
type SignCase = {
  key_indices: number[];
  nonce_indices: number[];
  aggnonce_index: number;
  msg_index: number;
  signer_index: number;
  expected: string;
  comment?: string;
};
type VerifyCase = {
  sig: string;
  key_indices: number[];
  nonce_indices: number[];
  msg_index: number;
  signer_index: number;
  comment?: string;
};
type TweakVectors = {
  sk: string;
  pubkeys: string[];
  secnonce: string;
  pnonces: string[];
  aggnonce: string;
  tweaks: string[];
  msg: string;
  valid_test_cases: TweakCase[];
  error_test_cases: (Omit<TweakCase, 'expected'> & { error: VectorError })[];
};
type TweakCase = {
  key_indices: number[];
  nonce_indices: number[];
  tweak_indices: number[];
  is_xonly: boolean[];
  signer_index: number;
  expected: string;
  comment?: string;
};
type DetSignVectors = {
  sk: string;
  pubkeys: string[];
  msgs: string[];
  valid_test_cases: DetSignCase[];
  error_test_cases: (Omit<DetSignCase, 'expected'> & { error: VectorError })[];
};
type DetSignCase = {
  rand: string | null;
  aggothernonce: string;
  key_indices: number[];
  tweaks: string[];
  is_xonly: boolean[];
  msg_index: number;
  signer_index: number;
  expected: [string, string];
  comment?: string;
};
type SigAggVectors = {
  pubkeys: string[];
  pnonces: string[];
  tweaks: string[];
  psigs: string[];
  msg: string;
  valid_test_cases: SigAggCase[];
  error_test_cases: (Omit<SigAggCase, 'expected'> & { error: VectorError })[];
};
type SigAggCase = {
  aggnonce: string;
  nonce_indices: number[];
  key_indices: number[];
  tweak_indices: number[];
  is_xonly: boolean[];
  psig_indices: number[];
  expected: string;
  comment?: string;
};

const pick = (list: string[], indices: number[]): Uint8Array[] => indices.map((i) => hex(list[i] as string));
const tweaksOf = (list: string[], indices: number[], xOnly: boolean[]): Tweak[] =>
  indices.map((t, j) => ({ tweak: hex(list[t] as string), xOnly: xOnly[j] as boolean }));
/** One message signed by every key: the batch takes [signerIndex][messageIndex] nonces. */
const oneMessage = (nonces: Uint8Array[]): Uint8Array[][] => nonces.map((n) => [n]);

describe('BIP327 sign_verify_vectors', () => {
  const v = loadBip327<SignVerifyVectors>('sign_verify');
  const sk = hex(v.sk);
  // The vector's secnonce k1 || k2 || pk belongs with pnonces[0] (its public half).
  const secnonce = (index: number) => adoptSecretNonce(hex(v.secnonces[index] as string), hex(v.pnonces[0] as string));

  v.valid_test_cases.forEach((c, i) => {
    it(caseName('sign_verify valid', i, c, `keys ${JSON.stringify(c.key_indices)} signer ${c.signer_index}`), () => {
      const ctx = aggregateKeys(pick(v.pubkeys, c.key_indices));
      const nonces = pick(v.pnonces, c.nonce_indices);
      expect(c.nonce_indices[c.signer_index]).toBe(0);
      expect(toHex(aggregateNonces(nonces))).toBe(v.aggnonces[c.aggnonce_index]);
      const batch = new SigningBatch(ctx, [hex(v.msgs[c.msg_index] as string)], oneMessage(nonces));
      const handle = secnonce(0);
      expect(batch.sign(c.signer_index, sk, [handle]).map(toHex)).toEqual([c.expected]);
      expect(handle.consumed).toBe(true);
      expect(batch.verifyPartial(c.signer_index, 0, hex(c.expected))).toBe(true);
    });
  });

  v.sign_error_test_cases.forEach((c, i) => {
    it(caseName('sign_verify sign error', i, c), () => {
      const keys = pick(v.pubkeys, c.key_indices);
      const message = hex(v.msgs[c.msg_index] as string);
      if (c.error.type === 'invalid_contribution' && c.error.contrib === 'aggnonce') {
        // The batch only ever builds aggregate nonces itself: the session values take this one directly.
        expectVectorError(
          () => sessionValues(keyAggInternals(aggregateKeys(keys)), hex(v.aggnonces[c.aggnonce_index] as string), message),
          c.error,
        );
        return;
      }
      if (c.error.type === 'value' && c.error.message.includes('must be included')) {
        // No index holds the signer's key, so signing at any index is refused, before the nonce is touched.
        const batch = new SigningBatch(aggregateKeys(keys), [message], oneMessage(pick(v.pnonces, [1, 2])));
        keys.forEach((_, signerIndex) => {
          const handle = secnonce(c.secnonce_index);
          expectVectorError(() => batch.sign(signerIndex, sk, [handle]), c.error);
          expect(handle.consumed).toBe(false);
        });
        return;
      }
      // aggnonces[0] is the aggregate of pnonces [0, 1, 2] (see the valid cases).
      expect(c.aggnonce_index).toBe(0);
      expectVectorError(() => {
        const batch = new SigningBatch(aggregateKeys(keys), [message], oneMessage(pick(v.pnonces, [0, 1, 2])));
        return batch.sign(c.signer_index ?? 0, sk, [secnonce(c.secnonce_index)]);
      }, c.error);
    });
  });

  v.verify_fail_test_cases.forEach((c, i) => {
    it(caseName('sign_verify verify fail', i, c), () => {
      const ctx = aggregateKeys(pick(v.pubkeys, c.key_indices));
      const batch = new SigningBatch(ctx, [hex(v.msgs[c.msg_index] as string)], oneMessage(pick(v.pnonces, c.nonce_indices)));
      expect(batch.verifyPartial(c.signer_index, 0, hex(c.sig))).toBe(false);
    });
  });

  v.verify_error_test_cases.forEach((c, i) => {
    it(caseName('sign_verify verify error', i, c), () => {
      expectVectorError(() => {
        const ctx = aggregateKeys(pick(v.pubkeys, c.key_indices));
        const batch = new SigningBatch(ctx, [hex(v.msgs[c.msg_index] as string)], oneMessage(pick(v.pnonces, c.nonce_indices)));
        return batch.verifyPartial(c.signer_index, 0, hex(c.sig));
      }, c.error);
    });
  });
});

describe('BIP327 tweak_vectors', () => {
  const v = loadBip327<TweakVectors>('tweak');
  const sk = hex(v.sk);
  const message = hex(v.msg);

  v.valid_test_cases.forEach((c, i) => {
    it(caseName('tweak valid', i, c), () => {
      const ctx = aggregateKeys(pick(v.pubkeys, c.key_indices), tweaksOf(v.tweaks, c.tweak_indices, c.is_xonly));
      const nonces = pick(v.pnonces, c.nonce_indices);
      expect(toHex(aggregateNonces(nonces))).toBe(v.aggnonce);
      const batch = new SigningBatch(ctx, [message], oneMessage(nonces));
      const handle = adoptSecretNonce(hex(v.secnonce), nonces[c.signer_index] as Uint8Array);
      expect(batch.sign(c.signer_index, sk, [handle]).map(toHex)).toEqual([c.expected]);
      expect(batch.verifyPartial(c.signer_index, 0, hex(c.expected))).toBe(true);
    });
  });

  v.error_test_cases.forEach((c, i) => {
    it(caseName('tweak error', i, c), () => {
      expectVectorError(() => aggregateKeys(pick(v.pubkeys, c.key_indices), tweaksOf(v.tweaks, c.tweak_indices, c.is_xonly)), c.error);
    });
  });
});

describe('BIP327 det_sign_vectors', () => {
  const v = loadBip327<DetSignVectors>('det_sign');
  const sk = hex(v.sk);
  const tweaksOfCase = (c: DetSignCase | Omit<DetSignCase, 'expected'>): Tweak[] =>
    c.tweaks.map((t, j) => ({ tweak: hex(t), xOnly: c.is_xonly[j] as boolean }));

  // Deterministic signing is not part of our API (our nonces are always fresh): the library signs,
  // and our partial-signature verification must accept what it produced.
  v.valid_test_cases.forEach((c, i) => {
    it(caseName('det_sign valid', i, c, `keys ${JSON.stringify(c.key_indices)} signer ${c.signer_index}`), () => {
      const keys = pick(v.pubkeys, c.key_indices);
      const message = hex(v.msgs[c.msg_index] as string);
      const { publicNonce, partialSig } = deterministicSign(
        sk,
        hex(c.aggothernonce),
        keys,
        message,
        c.tweaks.map(hex),
        c.is_xonly,
        c.rand === null ? undefined : hex(c.rand),
      );
      expect([toHex(publicNonce), toHex(partialSig)]).toEqual(c.expected);
      const key = keyAggInternals(aggregateKeys(keys, tweaksOfCase(c)));
      const session = sessionValues(key, aggregateNonces([publicNonce, hex(c.aggothernonce)]), message);
      expect(partialSigValid(key, session, c.signer_index, publicNonce, partialSig)).toBe(true);
      expect(partialSigValid(key, session, c.signer_index, publicNonce, hex(c.aggothernonce).subarray(1, 33))).toBe(false);
    });
  });

  v.error_test_cases.forEach((c, i) => {
    it(caseName('det_sign error', i, c), () => {
      const keys = pick(v.pubkeys, c.key_indices);
      // deterministicSign aggregates [own nonce, aggothernonce]: a bad aggothernonce is blamed on position 1.
      expectLibraryError(
        () =>
          deterministicSign(
            sk,
            hex(c.aggothernonce),
            keys,
            hex(v.msgs[c.msg_index] as string),
            c.tweaks.map(hex),
            c.is_xonly,
            c.rand === null ? undefined : hex(c.rand),
          ),
        c.error,
        1,
      );
      // Where our engine sees the same input, it must fail the same way.
      const contrib = c.error.type === 'invalid_contribution' ? c.error.contrib : undefined;
      if (contrib === 'pubkey' || c.error.type === 'value') {
        expectVectorError(() => {
          const ctx = aggregateKeys(keys, tweaksOfCase(c));
          const message = hex(v.msgs[c.msg_index] as string);
          const batch = new SigningBatch(ctx, [message], oneMessage(keys.map(() => hex(c.aggothernonce))));
          return batch.sign(c.signer_index, sk, [adoptSecretNonce(new Uint8Array(97), hex(c.aggothernonce))]);
        }, c.error);
      }
    });
  });
});

describe('BIP327 sig_agg_vectors', () => {
  const v = loadBip327<SigAggVectors>('sig_agg');
  const message = hex(v.msg);
  const batchOf = (c: SigAggCase | Omit<SigAggCase, 'expected'>) => {
    const nonces = pick(v.pnonces, c.nonce_indices);
    expect(toHex(aggregateNonces(nonces))).toBe(c.aggnonce);
    const ctx = aggregateKeys(pick(v.pubkeys, c.key_indices), tweaksOf(v.tweaks, c.tweak_indices, c.is_xonly));
    return { ctx, batch: new SigningBatch(ctx, [message], oneMessage(nonces)) };
  };

  v.valid_test_cases.forEach((c, i) => {
    it(caseName('sig_agg valid', i, c, `keys ${JSON.stringify(c.key_indices)} tweaks ${JSON.stringify(c.tweak_indices)}`), () => {
      const { ctx, batch } = batchOf(c);
      const [signature] = batch.aggregate(oneMessage(pick(v.psigs, c.psig_indices)));
      expect(toHex(signature as Uint8Array)).toBe(c.expected);
      expect(verifySignature(hex(c.expected), message, ctx.xOnlyKey)).toBe(true);
    });
  });

  v.error_test_cases.forEach((c, i) => {
    it(caseName('sig_agg error', i, c), () => {
      const { batch } = batchOf(c);
      const e = expectVectorError(() => batch.aggregate(oneMessage(pick(v.psigs, c.psig_indices))), c.error);
      expect(e.context.messageIndex).toBe(0);
    });
  });
});
