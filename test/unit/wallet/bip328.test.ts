import { readFileSync } from 'node:fs';
import path from 'node:path';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { HDKey } from '@scure/bip32';
import { p2tr } from '@scure/btc-signer';
import { describe, expect, it } from 'vitest';
import { aggregateKeys, sortKeys } from '../../../main/musig/index.ts';
import {
  BIP328_CHAIN_CODE,
  CHANGE_BRANCH,
  deriveGroupKey,
  HARDENED_OFFSET,
  keyFingerprint,
  MAX_DERIVATION_DEPTH,
  RECEIVE_BRANCH,
  syntheticXpub,
} from '../../../main/wallet/bip328.ts';
import { describeGroup, groupKeyAgg, taprootAddress } from '../../../main/wallet/group.ts';
import { GroupKeys } from '../../../main/wallet/group-keys.ts';
import { BTC_NETWORKS } from '../../../main/wallet/networks.ts';

const vectors = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../../../shared/vectors/bip328/vectors.json'), 'utf8')) as {
  aggregate_pubkey: string;
  keys: string[];
  xpub: string;
}[];

// BIP390 test vector `rawtr(musig(xpubA,xpubB)/0/*)`: the x-only keys of children 0, 1 and 2.
const BIP390_XPUBS = [
  'xpub6ERApfZwUNrhLCkDtcHTcxd75RbzS1ed54G1LkBUHQVHQKqhMkhgbmJbZRkrgZw4koxb5JaHWkY4ALHY2grBGRjaDMzQLcgJvLJuZZvRcEL',
  'xpub68NZiKmJWnxxS6aaHmn81bvJeTESw724CRDs6HbuccFQN9Ku14VQrADWgqbhhTHBaohPX4CjNLf9fq9MYo6oDaPPLPxSb7gwQN3ih19Zm4Y',
];
const BIP390_RAWTR_SCRIPTS = [
  '51209508c08832f3bb9d5e8baf8cb5cfa3669902e2f2da19acea63ff47b93faa9bfc',
  '51205ca1102663025a83dd9b5dbc214762c5a6309af00d48167d2d6483808525a298',
  '51207dbed1b89c338df6a1ae137f133a19cae6e03d481196ee6f1a5c7d1aeb56b166',
];

// BIP373's signers, whose sorted aggregate is 030b58e3…; its "derived" vectors use the child m/1/2.
const BIP373_KEYS = [
  '02346b99593357107c9d3459e9deba8d3eaf44e6636c85c7f853eb90ba52e8cd00',
  '024fafd65f8169186fc2bfdb2233c77e630d10be280a24c7165c09a27611775c2c',
  '02f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9',
];

describe('BIP328 synthetic xpub and derivation', () => {
  it('uses SHA256("MuSig2MuSig2MuSig2") as the chain code, as the BIP states it', () => {
    expect(bytesToHex(BIP328_CHAIN_CODE)).toBe('868087ca02a6f974c4598924c36b57762d32cb45717167e300622c7167e38965');
  });

  it.each(vectors.map((v, i) => [i, v] as const))('BIP328 vector %i: aggregate key to synthetic xpub', (_i, v) => {
    const aggregate = aggregateKeys(v.keys.map((k) => hexToBytes(k.toLowerCase())));
    expect(bytesToHex(aggregate.aggregateKey)).toBe(v.aggregate_pubkey);
    expect(syntheticXpub(aggregate.aggregateKey, 'mainnet')).toBe(v.xpub);
    const parsed = HDKey.fromExtendedKey(v.xpub);
    expect([parsed.depth, parsed.index, parsed.parentFingerprint]).toEqual([0, 0, 0]);
  });

  it.each(vectors.map((v, i) => [i, v] as const))(
    'BIP328 vector %i: children derived through the engine equal @scure/bip32 CKDpub from the xpub',
    (_i, v) => {
      const aggregate = aggregateKeys(v.keys.map((k) => hexToBytes(k.toLowerCase())));
      const xpub = HDKey.fromExtendedKey(v.xpub);
      for (const childPath of [[0], [0, 0], [0, 7], [1, 3], [5, 0, 2147483647]]) {
        const derived = deriveGroupKey(aggregate, childPath);
        const expected = childPath.reduce((node, index) => node.deriveChild(index), xpub);
        expect(bytesToHex(derived.childCtx.aggregateKey)).toBe(bytesToHex(expected.publicKey!));
        expect(derived.childCtx.tweaks).toHaveLength(childPath.length);
        expect(derived.childCtx.tweaks.every((t) => !t.xOnly)).toBe(true);
      }
    },
  );

  it('BIP390 rawtr(musig(xpubA,xpubB)/0/*) children 0..2: sorted participants, then BIP328 derivation', () => {
    const keys = BIP390_XPUBS.map((x) => bytesToHex(HDKey.fromExtendedKey(x).publicKey!));
    const group = groupKeyAgg(keys);
    BIP390_RAWTR_SCRIPTS.forEach((script, index) => {
      expect(`5120${bytesToHex(deriveGroupKey(group, [0, index]).internalKey)}`).toBe(script);
    });
  });

  it('BIP373 "derived" vectors: m/1/2 of the aggregate is their internal key, and its output key theirs', () => {
    const group = groupKeyAgg(BIP373_KEYS);
    expect(bytesToHex(group.aggregateKey)).toBe('030b58e337aa4d3852a8c29387c42408d8cfbe3a613a5e397e0a9f01a5fb7107d4');
    expect(keyFingerprint(group.aggregateKey)).toBe(0x2680dd6e);
    const child = deriveGroupKey(group, [1, 2]);
    expect(bytesToHex(child.internalKey)).toBe('8dd96ab858b259c518218c014a46eb4e6ac899e51c675ef774fbb68a8799ce2f');
    // The PSBT vectors key nonces and partial signatures by the compressed output key.
    expect(bytesToHex(child.signingCtx.aggregateKey)).toBe('02d0b226c6599f273874df8fe684ab6c3028081bee8a2cbed31a136f5865f6cfa4');
    // The base key (empty path) is the internal key of the non-derived vectors.
    expect(bytesToHex(deriveGroupKey(group, []).outputKey)).toBe('2967d2d020a9795da72b51be4f3fca25bb0e57e91c5b3e7a81abfa7232a34942');
  });

  it('the signing context of a child is aggregate + BIP32 tweaks + taproot tweak, and matches p2tr of the child', () => {
    const group = groupKeyAgg(BIP373_KEYS);
    for (const network of ['mainnet', 'testnet', 'signet', 'regtest'] as const) {
      const child = deriveGroupKey(group, [0, 5]);
      const pay = p2tr(child.internalKey, undefined, BTC_NETWORKS[network]);
      expect(bytesToHex(pay.tweakedPubkey)).toBe(bytesToHex(child.outputKey));
      expect(taprootAddress(child.outputKey, network)).toBe(pay.address);
      expect(child.signingCtx.tweaks.map((t) => t.xOnly)).toEqual([false, false, true]);
    }
  });

  it('writes tpub for the test networks and xpub for mainnet', () => {
    const group = groupKeyAgg(BIP373_KEYS);
    expect(syntheticXpub(group.aggregateKey, 'mainnet')).toMatch(/^xpub/);
    for (const network of ['testnet', 'signet', 'regtest'] as const) {
      expect(syntheticXpub(group.aggregateKey, network)).toMatch(/^tpub/);
    }
  });

  it('refuses hardened steps, paths that are too deep, tweaked groups and non-keys', () => {
    const group = groupKeyAgg(BIP373_KEYS);
    expect(() => deriveGroupKey(group, [HARDENED_OFFSET])).toThrow(/unhardened/);
    expect(() => deriveGroupKey(group, [-1])).toThrow(/unhardened/);
    expect(() => deriveGroupKey(group, [1.5])).toThrow(/unhardened/);
    expect(() => deriveGroupKey(group, Array(MAX_DERIVATION_DEPTH + 1).fill(0))).toThrow(/at most/);
    expect(() => deriveGroupKey(deriveGroupKey(group, []).signingCtx, [0])).toThrow(/untweaked/);
    expect(() => syntheticXpub(new Uint8Array(33), 'mainnet')).toThrow(/compressed public key/);
  });

  it('the sorted group aggregate is what a descriptor in any key order describes', () => {
    const keys = BIP373_KEYS.map((k) => hexToBytes(k));
    const reversed = aggregateKeys(sortKeys([...keys].reverse()));
    expect(bytesToHex(reversed.aggregateKey)).toBe(bytesToHex(groupKeyAgg([...BIP373_KEYS].reverse()).aggregateKey));
  });
});

describe('GroupKeys', () => {
  it('gives receive and change addresses of the BIP328 children, and the group address for the empty path', () => {
    const keys = new GroupKeys(groupKeyAgg(BIP373_KEYS));
    const xpub = HDKey.fromExtendedKey(syntheticXpub(keys.group.aggregateKey, 'mainnet'));
    for (const index of [0, 1, 7]) {
      const child = xpub.deriveChild(RECEIVE_BRANCH).deriveChild(index);
      const expected = p2tr(child.publicKey!.subarray(1), undefined, BTC_NETWORKS.regtest).address;
      expect(keys.address([RECEIVE_BRANCH, index], 'regtest')).toBe(expected);
    }
    expect(keys.address([CHANGE_BRANCH, 0], 'mainnet')).toMatch(/^bc1p/);
    expect(keys.address([], 'mainnet')).toBe(describeGroup('g', BIP373_KEYS, 'mainnet').address);
    expect(keys.derive([0, 1])).toBe(keys.derive([0, 1]));
  });
});
