/**
 * What a threshold group costs a wallet: deriving receive addresses (every MuSig2 key in the tree is
 * BIP32-derived per address, so the cost grows with the number of leaves) and the length of its
 * ranged descriptor. The k-of-n bound (n ≤ 7, at most 35 leaves) is read from this table.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { groupKeyAgg } from '../../main/wallet/group.ts';
import { GroupKeys } from '../../main/wallet/group-keys.ts';
import { policyDescriptors } from '../../main/wallet/threshold-descriptor.ts';
import { GroupOutputs } from '../../main/wallet/threshold.ts';
import { N_OF_N, type GroupPolicy } from '../../main/wallet/threshold-policy.ts';

const ADDRESSES = 100;
const key = (i: number) => bytesToHex(secp256k1.getPublicKey(secp256k1.Point.Fn.toBytes(BigInt(i))));

function ms(fn: () => unknown): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

export default async function bench(): Promise<void> {
  const rows: Record<string, Record<string, number>> = {};
  const keys = (n: number) => Array.from({ length: n }, (_, i) => key(i + 101));

  {
    const group = new GroupKeys(groupKeyAgg(keys(3)));
    const total = ms(() => {
      for (let i = 0; i < ADDRESSES; i++) group.address([0, i], 'mainnet');
    });
    rows['3-of-3 (GroupKeys, today)'] = {
      leaves: 0,
      'setup ms': 0,
      [`ms for ${ADDRESSES}`]: round(total),
      'ms per address': round(total / ADDRESSES, 2),
      'descriptor chars': policyDescriptors(new GroupOutputs(keys(3), N_OF_N), 'mainnet').receive.length,
    };
  }

  const cases: [string, number, GroupPolicy][] = [
    ['3-of-3 (GroupOutputs)', 3, N_OF_N],
    ['2-of-3', 3, { kind: 'k-of-n', k: 2 }],
    ['2-of-3 + recovery key', 3, { kind: 'k-of-n', k: 2, recovery: { keys: [key(7)], olderBlocks: 4320 } }],
    ['3-of-5', 5, { kind: 'k-of-n', k: 3 }],
    ['3-of-5 + recovery pair', 5, { kind: 'k-of-n', k: 3, recovery: { keys: [key(101), key(102)], olderBlocks: 4320 } }],
    ['3-of-6', 6, { kind: 'k-of-n', k: 3 }],
    ['4-of-7 (the bound: 35 leaves)', 7, { kind: 'k-of-n', k: 4 }],
  ];
  for (const [name, n, policy] of cases) {
    let outputs: GroupOutputs | undefined;
    const setup = ms(() => {
      outputs = new GroupOutputs(keys(n), policy);
    });
    const group = outputs as GroupOutputs;
    const total = ms(() => {
      for (let i = 0; i < ADDRESSES; i++) group.address([0, i], 'mainnet');
    });
    const leaves = group.at([], 'mainnet').leaves.length;
    rows[name] = {
      leaves,
      'setup ms': round(setup),
      [`ms for ${ADDRESSES}`]: round(total),
      'ms per address': round(total / ADDRESSES, 2),
      'descriptor chars': policyDescriptors(group, 'mainnet').receive.length,
    };
  }
  console.log(`${ADDRESSES} receive addresses (/0/0../0/${ADDRESSES - 1}) per group, mainnet; setup = key aggregation of every subset`);
  console.table(rows);
}
