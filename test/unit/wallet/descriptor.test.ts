import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { HDKey } from '@scure/bip32';
import { describe, expect, it } from 'vitest';
import { aggregateKeys, withTaprootTweak } from '../../../main/musig/index.ts';
import { deriveGroupKey } from '../../../main/wallet/bip328.ts';
import { descriptorChecksum, groupDescriptors, hasValidChecksum, withChecksum } from '../../../main/wallet/descriptor.ts';
import { groupKeyAgg } from '../../../main/wallet/group.ts';

// Published checksums: BIP380's test vector, and Bitcoin Core's doc/descriptors.md examples as
// `getdescriptorinfo` reports them; the last two come from Trezor's tests (origins, xpubs, ranges).
const KNOWN: [string, string][] = [
  ['raw(deadbeef)', '89f8spxm'],
  ['pk(0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798)', 'gn28ywm7'],
  ['pkh(02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5)', '8fhd9pwu'],
  ['wpkh(02f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9)', '8zl0zxma'],
  ['sh(wpkh(03fff97bd5755eeea420453a14355235d382f6472f8568a18b2f057a1460297556))', 'qkrrc7je'],
  ['combo(0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798)', 'lq9sf04s'],
  [
    'pkh([5c9e228d/44h/0h/0h]xpub6BiVtCpG9fQPxnPmHXG8PhtzQdWC2Su4qWu6XW9tpWFYhxydCLJGrWBJZ5H6qTAHdPQ7pQhtpjiYZVZARo14qHiay2fvrX996oEP42u8wZy/0/*)',
    'lnrxp640',
  ],
  [
    'wpkh([5c9e228d/84h/0h/0h]xpub6DDUPHpUo4pcy43iJeZjbSVWGav1SMMmuWdMHiGtkK8rhKmfbomtkwW6GKs1GGAKehT6QRocrmda3WWxXawpjmwaUHfFRXuKrXSapdckEYF/1/*)',
    'ashxahlc',
  ],
];

const BIP390_KEYS = [
  '02f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9',
  '03dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659',
  '023590a94e768f8e1815c2f24b4d80a8e3149316c3518ce7b7ad338368d038ca66',
];

describe('descriptor checksum (BIP380)', () => {
  it.each(KNOWN)('%s has checksum %s', (body, checksum) => {
    expect(descriptorChecksum(body)).toBe(checksum);
    expect(hasValidChecksum(`${body}#${checksum}`)).toBe(true);
  });

  it.each([
    ['no checksum', 'raw(deadbeef)'],
    ['missing checksum', 'raw(deadbeef)#'],
    ['too long checksum', 'raw(deadbeef)#89f8spxmx'],
    ['too short checksum', 'raw(deadbeef)#89f8spx'],
    ['error in payload', 'raw(deedbeef)#89f8spxm'],
    ['error in checksum', 'raw(deedbeef)##9f8spxm'],
    ['invalid characters in payload', 'raw(Ü)#00000000'],
  ])('BIP380 invalid case: %s', (_name, descriptor) => {
    expect(hasValidChecksum(descriptor)).toBe(false);
  });

  it('refuses to checksum a character outside the set', () => {
    expect(() => descriptorChecksum('raw(Ü)')).toThrow(/character set/);
  });
});

describe('group descriptors (BIP390)', () => {
  it('writes tr(musig(...)) with the sorted keys; BIP390 sorts them, and its vector gives our output key', () => {
    const group = groupKeyAgg(BIP390_KEYS);
    const { keyPath } = groupDescriptors(group, 'mainnet');
    const sorted = [...BIP390_KEYS].sort();
    expect(keyPath).toBe(withChecksum(`tr(musig(${sorted.join(',')}))`));
    expect(hasValidChecksum(keyPath)).toBe(true);
    // BIP390 vector: tr(musig(02f9…,03df…,0235…)) is 5120 79e6c3…, the taproot key of the sorted aggregate.
    expect(bytesToHex(withTaprootTweak(group).xOnlyKey)).toBe('79e6c3e628c9bfbce91de6b7fb28e2aec7713d377cf260ab599dcbc40e542312');
  });

  it('writes ranged receive and change descriptors over depth-0 xpubs of exactly the signer keys', () => {
    const group = groupKeyAgg(BIP390_KEYS);
    for (const network of ['mainnet', 'regtest'] as const) {
      const { receive, change } = groupDescriptors(group, network);
      expect(hasValidChecksum(receive) && hasValidChecksum(change)).toBe(true);
      const match = /^tr\(musig\(([^)]*)\)\/0\/\*\)#[a-z0-9]{8}$/.exec(receive);
      expect(match).not.toBeNull();
      expect(change.replace(/#.*/, '')).toBe(receive.replace(/#.*/, '').replace('/0/*', '/1/*'));
      const xpubs = match![1]!.split(',');
      expect(xpubs.every((x) => x.startsWith(network === 'mainnet' ? 'xpub' : 'tpub'))).toBe(true);
      const versions = network === 'mainnet' ? undefined : { public: 0x043587cf, private: 0x04358394 };
      const keys = xpubs.map((x) => HDKey.fromExtendedKey(x, versions));
      expect(keys.map((k) => bytesToHex(k.publicKey!))).toEqual([...BIP390_KEYS].sort());
      expect(keys.every((k) => k.depth === 0)).toBe(true);
      // What a BIP390 wallet computes for /0/3: sort, aggregate, derive (BIP328) - our receive key 3.
      const aggregate = aggregateKeys(keys.map((k) => k.publicKey!));
      expect(bytesToHex(deriveGroupKey(aggregate, [0, 3]).outputKey)).toBe(bytesToHex(deriveGroupKey(group, [0, 3]).outputKey));
    }
  });

  it('refuses a tweaked or unsorted aggregate', () => {
    const group = groupKeyAgg(BIP390_KEYS);
    expect(() => groupDescriptors(withTaprootTweak(group), 'mainnet')).toThrow(/untweaked/);
    const unsorted = aggregateKeys(BIP390_KEYS.map((k) => hexToBytes(k)));
    expect(() => groupDescriptors(unsorted, 'mainnet')).toThrow(/sorted/);
  });
});
