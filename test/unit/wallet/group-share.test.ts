/**
 * Groups shared as descriptors and group files: what we write reads back to the same group, other
 * code (test/support/descriptor-reader.ts: BIP380's checksum ported on its own, bitcoinjs-lib p2tr
 * over @scure's MuSig2) gives the same addresses, and anything else - a tampered checksum, a key that
 * is not the group's, a form we do not write, a file whose parts disagree - is refused in words.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { readGroupDescriptor } from '../../../main/wallet/descriptor-import.ts';
import { readShared, writeGroupFile } from '../../../main/wallet/group-file.ts';
import { describePolicyGroup, groupOutputs } from '../../../main/wallet/policy-group.ts';
import { policyDescriptors } from '../../../main/wallet/threshold-descriptor.ts';
import { GroupOutputs } from '../../../main/wallet/threshold.ts';
import type { GroupPolicy } from '../../../main/wallet/threshold-policy.ts';
import { addressOf, referenceChecksum, referenceChecksumValid } from '../../support/descriptor-reader.ts';

const key = (i: number) => bytesToHex(secp256k1.getPublicKey(secp256k1.Point.Fn.toBytes(BigInt(i))));
// BIP390's keys, sorted: A < B < C.
const A = '023590a94e768f8e1815c2f24b4d80a8e3149316c3518ce7b7ad338368d038ca66';
const B = '02f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9';
const C = '03dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659';
const FIVE = [11, 12, 13, 14, 15].map(key);

const CASES: [string, string[], GroupPolicy][] = [
  ['1-of-1', [A], { kind: 'n-of-n' }],
  ['3-of-3', [C, A, B], { kind: 'n-of-n' }],
  ['2-of-3', [A, B, C], { kind: 'k-of-n', k: 2 }],
  ['2-of-3, recovery key', [A, B, C], { kind: 'k-of-n', k: 2, recovery: { keys: [key(99)], olderBlocks: 144 } }],
  ['3-of-5, recovery subset', FIVE, { kind: 'k-of-n', k: 3, recovery: { keys: [key(15), key(11)], olderBlocks: 52_560 } }],
  ['2-of-2, recovery key', [A, C], { kind: 'n-of-n', recovery: { keys: [key(98)], olderBlocks: 10 } }],
];

/** `body` with a valid checksum computed by the reference port (so only the form is wrong). */
const signed = (body: string) => `${body}#${referenceChecksum(body)}`;

describe('the independent BIP380 checksum of the test reader', () => {
  it('gives BIP380’s example and the reference Python’s checksums of our 2-of-3 descriptors', () => {
    expect(referenceChecksum('raw(deadbeef)')).toBe('89f8spxm');
    expect(signed(`tr(musig(${A},${B},${C}),{pk(musig(${A},${B})),{pk(musig(${A},${C})),pk(musig(${B},${C}))}})`)).toMatch(/#wj8t4gwh$/);
  });
});

describe('a group descriptor read back', () => {
  it.each(CASES)('%s: gives the same keys, policy and group; other code gives the same address and checksum', (_name, keys, policy) => {
    const outputs = new GroupOutputs(keys, policy);
    const written = policyDescriptors(outputs, 'mainnet');
    expect(referenceChecksumValid(written.keyPath)).toBe(true);
    const read = readGroupDescriptor(written.keyPath);
    expect(read.publicKeys).toEqual(outputs.group.publicKeys.map((k) => bytesToHex(k)));
    expect(read.policy).toEqual(outputs.policy);
    for (const network of ['mainnet', 'regtest'] as const) {
      const group = describePolicyGroup('g', read.publicKeys, network, read.policy);
      expect(group.id).toBe(describePolicyGroup('g', keys, network, policy).id);
      expect(addressOf(written.keyPath, 0, network)).toBe(group.address);
      expect(addressOf(policyDescriptors(outputs, network).receive, 0, network)).toBe(groupOutputs(group).address([0, 0], network));
    }
  });

  it('refuses a tampered or missing checksum', () => {
    const d = policyDescriptors(new GroupOutputs([A, B, C], { kind: 'k-of-n', k: 2 }), 'mainnet').keyPath;
    const last = d.at(-1) === 'q' ? 'p' : 'q';
    expect(() => readGroupDescriptor(d.slice(0, -1) + last)).toThrow(/checksum does not match/);
    expect(() => readGroupDescriptor(d.replace(`pk(musig(${A},${B}))`, `pk(musig(${A},${C}))`))).toThrow(/checksum does not match/);
    expect(() => readGroupDescriptor(d.slice(0, -9))).toThrow(/no checksum/);
  });

  it('refuses a leaf with a key that is not the group’s, even with a valid checksum', () => {
    const foreign = key(7);
    const body = `tr(musig(${A},${B},${C}),{pk(musig(${A},${foreign})),{pk(musig(${A},${C})),pk(musig(${B},${C}))}})`;
    expect(() => readGroupDescriptor(signed(body))).toThrow(/not one of the group’s signers/);
  });

  it.each([
    [
      'leaves in another order',
      `tr(musig(${A},${B},${C}),{pk(musig(${A},${C})),{pk(musig(${A},${B})),pk(musig(${B},${C}))}})`,
      /not the form Cosigner writes/,
    ],
    [
      'another tree shape',
      `tr(musig(${A},${B},${C}),{{pk(musig(${A},${B})),pk(musig(${A},${C}))},pk(musig(${B},${C}))})`,
      /not the form Cosigner writes/,
    ],
    ['a missing leaf', `tr(musig(${A},${B},${C}),{pk(musig(${A},${B})),pk(musig(${A},${C}))})`, /not the form Cosigner writes/],
    ['unsorted keys', `tr(musig(${B},${A},${C}))`, /not the form Cosigner writes/],
    ['leaves of two sizes', `tr(musig(${A},${B},${C}),{pk(musig(${A},${B})),pk(musig(${A},${B},${C}))})`, /different sizes/],
    [
      'a recovery leaf first',
      `tr(musig(${A},${B},${C}),{and_v(v:pk(${A}),older(10)),{pk(musig(${A},${B})),pk(musig(${B},${C}))}})`,
      /the last one/,
    ],
    ['a plain internal key', `tr(${A})`, /expected "musig\("/],
    ['wsh()', `wsh(pk(${A}))`, /expected "tr\("/],
    ['uppercase hex', `tr(musig(${A.toUpperCase()}))`, /lowercase hex/],
    ['trailing text', `tr(musig(${A}))x`, /unexpected text/],
    ['a time-based lock', `tr(musig(${A},${B}),and_v(v:pk(${C}),older(4194305)))`, /olderBlocks is 1 to 65535/],
    ['a lock written with a leading zero', `tr(musig(${A},${B}),and_v(v:pk(${C}),older(0144)))`, /not the form Cosigner writes/],
    ['a 2-of-2 (k must be below n)', `tr(musig(${A},${B}),pk(musig(${A},${B})))`, /k-of-n group has 3 to 7 signers/],
  ])('refuses %s, with a valid checksum', (_name, body, words) => {
    expect(() => readGroupDescriptor(signed(body))).toThrow(words);
  });

  it('refuses a receive descriptor, naming what to import instead', () => {
    const receive = policyDescriptors(new GroupOutputs([A, B, C], { kind: 'k-of-n', k: 2 }), 'mainnet').receive;
    expect(() => readGroupDescriptor(receive)).toThrow(/import the group descriptor/);
  });
});

describe('the group file', () => {
  const groups = CASES.map(([name, keys, policy]) => describePolicyGroup(name, keys, 'regtest', policy));
  const names: Record<string, string> = { [A]: 'Alice', [B]: 'Bob' };
  const file = writeGroupFile(groups, 'regtest', (k) => names[k] ?? null);

  it('reads back to the same groups, names for the keys it named, on its network', () => {
    const read = readShared(file, 'regtest');
    expect(read.map((r) => r.group)).toEqual(groups);
    expect(read[2]!.signerNames).toEqual([
      { publicKey: A, name: 'Alice' },
      { publicKey: B, name: 'Bob' },
    ]);
    const entry = JSON.parse(file).groups[2];
    expect(referenceChecksumValid(entry.receive) && referenceChecksumValid(entry.change)).toBe(true);
    expect(addressOf(entry.receive, 0, 'regtest')).toBe(groupOutputs(groups[2]!).address([0, 0], 'regtest'));
  });

  it('reads a pasted group descriptor as one group on the app’s network', () => {
    const [shared] = readShared(`  ${policyDescriptors(groupOutputs(groups[3]!), 'regtest').keyPath}\n`, 'regtest', 'Pasted');
    expect(shared!.group).toEqual({ ...groups[3]!, name: 'Pasted' });
  });

  const edit = (change: (json: { network: string; groups: Record<string, unknown>[] }) => void) => {
    const json = JSON.parse(file);
    change(json);
    return JSON.stringify(json);
  };

  it.each([
    ['for another network', (j: { network: string }) => (j.network = 'mainnet'), /this file is for mainnet; this app runs on regtest/],
    [
      'whose policy disagrees with its descriptor',
      (j: { groups: Record<string, unknown>[] }) => (j.groups[2]!.policy = { kind: 'n-of-n' }),
      /policy does not match/,
    ],
    [
      'whose receive descriptor is another group’s',
      (j: { groups: Record<string, unknown>[] }) => (j.groups[2]!.receive = j.groups[3]!.receive),
      /receive or change descriptor is not the group's/,
    ],
    [
      'whose signers are not the descriptor’s keys',
      (j: { groups: Record<string, unknown>[] }) => (j.groups[2]!.signers = [A, B, key(7)].map((publicKey) => ({ publicKey, name: null }))),
      /signer list is not the descriptor's keys/,
    ],
    ['with a field we do not write', (j: { groups: Record<string, unknown>[] }) => (j.groups[0]!.extra = 1), /not a Cosigner group file/],
  ])('is refused %s', (_name, change, words) => {
    expect(() => readShared(edit(change as never), 'regtest')).toThrow(words);
  });

  it('refuses text that is neither', () => {
    expect(() => readShared('{ not json', 'regtest')).toThrow(/neither a group file/);
    expect(() => readShared('hello', 'regtest')).toThrow(/no checksum/);
  });
});
