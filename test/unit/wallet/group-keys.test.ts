/**
 * The group's cache of BIP328 derivations: bounded, least recently used out, and never a different
 * key from a fresh derivation; every key checked against @scure/bip32 and every address against
 * bitcoinjs-lib.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { HDKey } from '@scure/bip32';
import * as bitcoin from 'bitcoinjs-lib';
import fc from 'fast-check';
import * as ecc from 'tiny-secp256k1';
import { describe, expect, it } from 'vitest';
import { deriveGroupKey, HARDENED_OFFSET, syntheticXpub } from '../../../main/wallet/bip328.ts';
import { groupKeyAgg } from '../../../main/wallet/group.ts';
import { GroupKeys, MAX_CACHED_KEYS } from '../../../main/wallet/group-keys.ts';
import { cosigners } from '../../support/psbt-fixtures.ts';

const group = groupKeyAgg(cosigners(3, 'group-keys').map((s) => bytesToHex(s.publicKey)));
const xpub = HDKey.fromExtendedKey(syntheticXpub(group.aggregateKey, 'regtest'), { public: 0x043587cf, private: 0x04358394 });

bitcoin.initEccLib(ecc);
/** The regtest address of a BIP32 public key, by bitcoinjs-lib from the internal key. */
function bitcoinJsAddress(internalKey: Uint8Array): string {
  return bitcoin.payments.p2tr({ internalPubkey: internalKey, network: bitcoin.networks.regtest }).address as string;
}

// Paths share prefixes often (a branch and its addresses), so that cached parents are reused.
const index = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: HARDENED_OFFSET - 1 }));
const path = fc.array(index, { minLength: 1, maxLength: 3 });

describe('GroupKeys: cached BIP328 derivations', () => {
  it('a cached key (derived from cached parents, in any order) equals a fresh derivation and @scure/bip32 CKDpub', () => {
    fc.assert(
      fc.property(fc.array(path, { minLength: 1, maxLength: 4 }), (paths) => {
        const keys = new GroupKeys(group);
        for (const p of [...paths, ...paths.slice().reverse()]) {
          const cached = keys.derive(p);
          const fresh = deriveGroupKey(group, p);
          const expected = p.reduce((node, i) => node.deriveChild(i), xpub);
          expect(bytesToHex(cached.childCtx.aggregateKey)).toBe(bytesToHex(expected.publicKey!));
          expect(bytesToHex(cached.chainCode)).toBe(bytesToHex(expected.chainCode!));
          for (const field of ['internalKey', 'outputKey', 'chainCode'] as const)
            expect(bytesToHex(cached[field])).toBe(bytesToHex(fresh[field]));
          expect(bytesToHex(cached.signingCtx.aggregateKey)).toBe(bytesToHex(fresh.signingCtx.aggregateKey));
          expect(cached.path).toEqual(p);
          expect(keys.address(p, 'regtest')).toBe(bitcoinJsAddress(expected.publicKey!.subarray(1)));
        }
      }),
      { numRuns: 15 },
    );
  });

  it(`holds at most ${MAX_CACHED_KEYS} keys, the least recently used leaving first`, () => {
    const keys = new GroupKeys(group);
    const first = keys.derive([0, 0]);
    const kept = keys.derive([0, 1]);
    for (let i = 2; i < MAX_CACHED_KEYS + 50; i++) {
      keys.derive([5, i]);
      if (i % 64 === 0) keys.derive([0, 1]); // used all along: stays
      expect(keys.cachedKeys).toBeLessThanOrEqual(MAX_CACHED_KEYS);
    }
    expect(keys.cachedKeys).toBe(MAX_CACHED_KEYS);
    expect(keys.derive([0, 1])).toBe(kept);
    const again = keys.derive([0, 0]);
    expect(again).not.toBe(first);
    expect(bytesToHex(again.outputKey)).toBe(bytesToHex(first.outputKey));
  });

  it('refuses a path deeper than BIP328 derivations go, before deriving anything', () => {
    const keys = new GroupKeys(group);
    expect(() => keys.derive(Array(9).fill(0))).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(() => keys.derive([0, HARDENED_OFFSET])).toThrow(/unhardened/);
    expect(keys.cachedKeys).toBe(1); // the branch key [0] only
  });
});
