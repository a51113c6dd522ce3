/**
 * Threshold group descriptors: the written form (checksums from BIP380's reference Python code,
 * run on strings written out here), and what they mean. A small reader of the BIP386/BIP390 forms we
 * write (test/support/descriptor-reader.ts) evaluates each descriptor with other code and must land
 * on the addresses GroupOutputs gives.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import * as bitcoin from 'bitcoinjs-lib';
import * as ecc from 'tiny-secp256k1';
import { beforeAll, describe, expect, it } from 'vitest';
import { groupDescriptors, hasValidChecksum } from '../../../main/wallet/descriptor.ts';
import { groupKeyAgg } from '../../../main/wallet/group.ts';
import { policyDescriptors } from '../../../main/wallet/threshold-descriptor.ts';
import { GroupOutputs } from '../../../main/wallet/threshold.ts';
import { MAX_THRESHOLD_SIGNERS, N_OF_N, type GroupPolicy } from '../../../main/wallet/threshold-policy.ts';
import { addressOf } from '../../support/descriptor-reader.ts';

const key = (i: number) => bytesToHex(secp256k1.getPublicKey(secp256k1.Point.Fn.toBytes(BigInt(i))));

// BIP390's keys, sorted: A < B < C.
const A = '023590a94e768f8e1815c2f24b4d80a8e3149316c3518ce7b7ad338368d038ca66';
const B = '02f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9';
const C = '03dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659';

// ---- tests ----

const CASES: [string, string[], GroupPolicy][] = [
  ['2-of-3', [A, B, C], { kind: 'k-of-n', k: 2 }],
  ['2-of-3, recovery key', [A, B, C], { kind: 'k-of-n', k: 2, recovery: { keys: [B], olderBlocks: 144 } }],
  ['3-of-5', [11, 12, 13, 14, 15].map(key), { kind: 'k-of-n', k: 3 }],
  [
    '3-of-5, recovery subset',
    [11, 12, 13, 14, 15].map(key),
    { kind: 'k-of-n', k: 3, recovery: { keys: [key(15), key(11)], olderBlocks: 52_560 } },
  ],
  ['2-of-2, recovery key', [A, C], { kind: 'n-of-n', recovery: { keys: [key(98)], olderBlocks: 10 } }],
];

describe('threshold group descriptors', () => {
  beforeAll(() => bitcoin.initEccLib(ecc));

  it('write the 2-of-3 of BIP390 as its example does, with the BIP380 reference checksum', () => {
    const d = policyDescriptors(new GroupOutputs([B, C, A], { kind: 'k-of-n', k: 2 }), 'mainnet');
    expect(d.keyPath).toBe(`tr(musig(${A},${B},${C}),{pk(musig(${A},${B})),{pk(musig(${A},${C})),pk(musig(${B},${C}))}})#wj8t4gwh`);
  });

  it('write the recovery leaf last, as and_v(v:pk(K),older(N)), with the BIP380 reference checksum', () => {
    const d = policyDescriptors(
      new GroupOutputs([A, B, C], { kind: 'k-of-n', k: 2, recovery: { keys: [B], olderBlocks: 144 } }),
      'mainnet',
    );
    expect(d.keyPath).toBe(
      `tr(musig(${A},${B},${C}),{{pk(musig(${A},${B})),pk(musig(${A},${C}))},{pk(musig(${B},${C})),and_v(v:pk(${B}),older(144))}})#djw0dw3s`,
    );
  });

  it('check with the existing checksum code, which accepts BIP380 raw(deadbeef)#89f8spxm and refuses a changed body', () => {
    expect(hasValidChecksum('raw(deadbeef)#89f8spxm')).toBe(true);
    const d = policyDescriptors(new GroupOutputs([A, B, C], { kind: 'k-of-n', k: 2 }), 'mainnet');
    for (const text of Object.values(d)) {
      expect(hasValidChecksum(text)).toBe(true);
      expect(hasValidChecksum(text.replace('pk(', 'pk ('))).toBe(false);
    }
  });

  it('keep the n-of-n descriptors of a group without recovery byte for byte', () => {
    for (const keys of [[A], [A, B], [A, B, C]]) {
      for (const network of ['mainnet', 'regtest'] as const) {
        expect(policyDescriptors(new GroupOutputs(keys, N_OF_N), network)).toEqual(groupDescriptors(groupKeyAgg(keys), network));
      }
    }
  });

  describe.each(CASES)('%s', (_name, keys, policy) => {
    const outputs = new GroupOutputs(keys, policy);

    it.each(['mainnet', 'regtest'] as const)('on %s: every descriptor, read by other code, gives our addresses', (network) => {
      const d = policyDescriptors(outputs, network);
      expect(addressOf(d.keyPath, 0, network)).toBe(outputs.address([], network));
      for (const index of [0, 1, 2, 17]) {
        expect(addressOf(d.receive, index, network)).toBe(outputs.address([0, index], network));
        expect(addressOf(d.change, index, network)).toBe(outputs.address([1, index], network));
      }
      expect(d.change.slice(0, -9)).toBe(d.receive.slice(0, -9).replaceAll('/0/*', '/1/*'));
      expect(d.receive).toMatch(network === 'mainnet' ? /^tr\(musig\(xpub/ : /^tr\(musig\(tpub/);
    });
  });

  it(`stay under 18 000 characters at the bound (4-of-${MAX_THRESHOLD_SIGNERS}, recovery by all ${MAX_THRESHOLD_SIGNERS})`, () => {
    const keys = Array.from({ length: MAX_THRESHOLD_SIGNERS }, (_, i) => key(i + 21));
    const d = policyDescriptors(new GroupOutputs(keys, { kind: 'k-of-n', k: 4, recovery: { keys, olderBlocks: 1000 } }), 'mainnet');
    expect(d.receive.length).toBeGreaterThan(17_000);
    expect(d.receive.length).toBeLessThan(18_000);
  });
});
