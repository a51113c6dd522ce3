import { nonceGen } from '@scure/btc-signer/musig2.js';
import { describe, expect, it } from 'vitest';
import type { KeyAggContext } from '../../../main/musig/index.ts';
import { aggregateKeys, aggregateNonces, generateNonce, isValidPublicNonce, publicKeyOf, sortKeys } from '../../../main/musig/index.ts';
import { takeSecretNonce } from '../../../main/musig/nonce.ts';
import { caseName, expectVectorError, hex, loadBip327, toHex, type VectorError } from './bip327.ts';

type KeySortVectors = { pubkeys: string[]; sorted_pubkeys: string[] };
type KeyAggVectors = {
  pubkeys: string[];
  tweaks: string[];
  valid_test_cases: { key_indices: number[]; expected: string; comment?: string }[];
  error_test_cases: {
    key_indices: number[];
    tweak_indices: number[];
    is_xonly: boolean[];
    error: VectorError;
    comment?: string;
  }[];
};
type NonceGenVectors = {
  test_cases: {
    rand_: string;
    sk: string | null;
    pk: string;
    aggpk: string | null;
    msg: string | null;
    extra_in: string | null;
    expected_secnonce: string;
    expected_pubnonce: string;
    comment?: string;
  }[];
};
type NonceAggVectors = {
  pnonces: string[];
  valid_test_cases: { pnonce_indices: number[]; expected: string; comment?: string }[];
  error_test_cases: { pnonce_indices: number[]; error: VectorError; comment?: string }[];
};

describe('BIP327 key_sort_vectors', () => {
  const v = loadBip327<KeySortVectors>('key_sort');
  it('key_sort #0: sorts six keys, one duplicated', () => {
    expect(sortKeys(v.pubkeys.map(hex)).map(toHex)).toEqual(v.sorted_pubkeys);
  });
});

describe('BIP327 key_agg_vectors', () => {
  const v = loadBip327<KeyAggVectors>('key_agg');
  v.valid_test_cases.forEach((c, i) => {
    it(caseName('key_agg valid', i, c, `keys ${JSON.stringify(c.key_indices)}`), () => {
      const ctx = aggregateKeys(c.key_indices.map((k) => hex(v.pubkeys[k] as string)));
      expect(toHex(ctx.xOnlyKey)).toBe(c.expected);
      expect(toHex(ctx.aggregateKey.subarray(1))).toBe(c.expected);
    });
  });
  v.error_test_cases.forEach((c, i) => {
    it(caseName('key_agg error', i, c), () => {
      expectVectorError(
        () =>
          aggregateKeys(
            c.key_indices.map((k) => hex(v.pubkeys[k] as string)),
            c.tweak_indices.map((t, j) => ({ tweak: hex(v.tweaks[t] as string), xOnly: c.is_xonly[j] as boolean })),
          ),
        c.error,
      );
    });
  });
});

describe('BIP327 nonce_gen_vectors', () => {
  const v = loadBip327<NonceGenVectors>('nonce_gen');
  v.test_cases.forEach((c, i) => {
    const name = caseName('nonce_gen', i, c, `msg ${c.msg === null ? 'absent' : `${c.msg.length / 2} bytes`}`);
    if (c.sk !== null && c.aggpk !== null && c.msg !== null) {
      it(`${name} (engine generateNonce)`, () => {
        const secretKey = hex(c.sk as string);
        expect(toHex(publicKeyOf(secretKey))).toBe(c.pk);
        // The vector's aggpk is not the aggregate of any key set: only xOnlyKey and the signer's
        // membership are inputs of nonce generation, so a context-shaped value carries them.
        const ctx: KeyAggContext = {
          publicKeys: [hex(c.pk)],
          tweaks: [],
          aggregateKey: new Uint8Array(33),
          xOnlyKey: hex(c.aggpk as string),
        };
        const { publicNonce, secretNonce } = generateNonce({
          secretKey,
          ctx,
          message: hex(c.msg as string),
          ...(c.extra_in !== null ? { extraIn: hex(c.extra_in) } : {}),
          rand: hex(c.rand_),
        });
        expect(toHex(publicNonce)).toBe(c.expected_pubnonce);
        expect(toHex(takeSecretNonce(secretNonce))).toBe(c.expected_secnonce);
        expect(secretNonce.consumed).toBe(true);
      });
    } else {
      // Our API always has a secret key, an aggregate key and a message: the library covers the rest.
      it(`${name} (library nonceGen: no sk, aggpk or msg)`, () => {
        const nonces = nonceGen(
          hex(c.pk),
          c.sk === null ? undefined : hex(c.sk),
          c.aggpk === null ? undefined : hex(c.aggpk),
          c.msg === null ? undefined : hex(c.msg),
          c.extra_in === null ? undefined : hex(c.extra_in),
          hex(c.rand_),
        );
        expect(toHex(nonces.public)).toBe(c.expected_pubnonce);
        expect(toHex(nonces.secret)).toBe(c.expected_secnonce);
      });
    }
  });
});

describe('BIP327 nonce_agg_vectors', () => {
  const v = loadBip327<NonceAggVectors>('nonce_agg');
  v.valid_test_cases.forEach((c, i) => {
    it(caseName('nonce_agg valid', i, c, `nonces ${JSON.stringify(c.pnonce_indices)}`), () => {
      expect(toHex(aggregateNonces(c.pnonce_indices.map((n) => hex(v.pnonces[n] as string))))).toBe(c.expected);
    });
  });
  v.error_test_cases.forEach((c, i) => {
    it(caseName('nonce_agg error', i, c), () => {
      expectVectorError(() => aggregateNonces(c.pnonce_indices.map((n) => hex(v.pnonces[n] as string))), c.error);
    });
  });
  it('isValidPublicNonce accepts exactly the nonces NonceAgg accepts, one by one', () => {
    const invalid = new Set(v.error_test_cases.map((c) => c.pnonce_indices[(c.error as { signer: number }).signer]));
    v.pnonces.forEach((pnonce, n) => {
      const nonce = hex(pnonce as string);
      let aggregates = true;
      try {
        aggregateNonces([nonce]);
      } catch {
        aggregates = false;
      }
      expect(isValidPublicNonce(nonce), `pnonce ${n}`).toBe(aggregates);
      expect(aggregates, `pnonce ${n}`).toBe(!invalid.has(n));
    });
    expect(invalid.size).toBeGreaterThan(0);
    expect(isValidPublicNonce(new Uint8Array(65))).toBe(false);
    expect(isValidPublicNonce(new Uint8Array(66))).toBe(false);
  });
});
