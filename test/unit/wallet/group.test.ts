import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { aggregateKeys } from '../../../main/musig/index.ts';
import { p2tr } from '@scure/btc-signer';
import { describeGroup } from '../../../main/wallet/group.ts';
import { BTC_NETWORKS } from '../../../main/wallet/networks.ts';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const vectors = JSON.parse(
  readFileSync(path.resolve(import.meta.dirname, '../../../../shared/vectors/bip327/key_agg_vectors.json'), 'utf8'),
) as { pubkeys: string[] };
const bip328 = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../../../shared/vectors/bip328/vectors.json'), 'utf8')) as {
  aggregate_pubkey: string;
  keys: string[];
}[];
const keys = vectors.pubkeys.map((k) => k.toLowerCase());

describe('co-signer group', () => {
  // BIP328 and BIP390 aggregate keys in the order written, without sorting: the group therefore
  // stores its keys sorted, and that sorted order is the order any descriptor of it must use.
  it.each(bip328.map((v, i) => [i, v] as const))('BIP328 vector %i: KeyAgg in the written order gives its aggregate key', (_i, v) => {
    const written = v.keys.map((k) => hexToBytes(k.toLowerCase()));
    expect(bytesToHex(aggregateKeys(written).aggregateKey)).toBe(v.aggregate_pubkey);
    const group = describeGroup(
      'g',
      v.keys.map((k) => k.toLowerCase()),
      'mainnet',
    );
    expect(group.publicKeys).toEqual(v.keys.map((k) => k.toLowerCase()).sort());
    expect(group.aggregateKey).toBe(bytesToHex(aggregateKeys(group.publicKeys.map((k) => hexToBytes(k))).xOnlyKey));
  });

  it('has one id and one key whatever the order the keys are given in', () => {
    const a = describeGroup('a', [keys[0]!, keys[1]!, keys[2]!], 'mainnet');
    const b = describeGroup('b', [keys[2]!, keys[0]!, keys[1]!], 'mainnet');
    expect(a.id).toBe(b.id);
    expect(a.aggregateKey).toBe(b.aggregateKey);
    expect(a.outputKey).toBe(b.outputKey);
  });

  it('derives the taproot output key and address as @scure/btc-signer p2tr does from the internal key', () => {
    for (const network of ['mainnet', 'testnet', 'signet', 'regtest'] as const) {
      const g = describeGroup('g', [keys[0]!, keys[1]!], network);
      const pay = p2tr(g.aggregateKey, undefined, BTC_NETWORKS[network]);
      expect(bytesToHex(pay.tweakedPubkey)).toBe(g.outputKey);
      expect(pay.address).toBe(g.address);
    }
    expect(describeGroup('g', [keys[0]!], 'mainnet').address).toMatch(/^bc1p/);
    expect(describeGroup('g', [keys[0]!], 'testnet').address).toMatch(/^tb1p/);
    expect(describeGroup('g', [keys[0]!], 'regtest').address).toMatch(/^bcrt1p/);
  });

  it('refuses duplicate keys, an empty set and more than 16 signers', () => {
    expect(() => describeGroup('g', [keys[0]!, keys[0]!], 'mainnet')).toThrow(/twice/);
    expect(() => describeGroup('g', [], 'mainnet')).toThrow(/1 to 16/);
    expect(() => describeGroup('g', Array(17).fill(keys[0]!), 'mainnet')).toThrow(/1 to 16/);
  });
});
