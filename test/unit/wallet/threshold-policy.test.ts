import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { CosignerError } from '../../../main/errors.ts';
import { balancedTree, type TreeShape } from '../../../main/wallet/tap-tree.ts';
import {
  checkPolicy,
  MAX_OLDER_BLOCKS,
  MAX_SUBSET_LEAVES,
  MAX_THRESHOLD_SIGNERS,
  N_OF_N,
  spendingSubsets,
  type GroupPolicy,
} from '../../../main/wallet/threshold-policy.ts';

/** i·G for small i: well-known keys, 02 79be… for 1. */
const key = (i: number) => bytesToHex(secp256k1.getPublicKey(secp256k1.Point.Fn.toBytes(BigInt(i))));

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof CosignerError ? e.code : 'not a CosignerError';
  }
  return undefined;
}

function binomial(n: number, k: number): number {
  let c = 1;
  for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i;
  return c;
}

describe('group policy', () => {
  it('n-of-n is the default and needs nothing else', () => {
    expect(checkPolicy(N_OF_N, 16)).toEqual({ kind: 'n-of-n' });
    expect(spendingSubsets(N_OF_N, 5)).toEqual([]);
  });

  it.each([
    ['k = 1', 1, 3],
    ['k = n', 3, 3],
    ['k > n', 4, 3],
    ['n = 2 (no k fits)', 1, 2],
    [`n = ${MAX_THRESHOLD_SIGNERS + 1}`, 4, MAX_THRESHOLD_SIGNERS + 1],
    ['k not an integer', 2.5, 4],
    ['k not a number', Number.NaN, 4],
  ])('refuses a k-of-n with %s', (_name, k, n) => {
    expect(codeOf(() => checkPolicy({ kind: 'k-of-n', k }, n))).toBe('INVALID_INPUT');
  });

  it('refuses a kind it does not know', () => {
    expect(codeOf(() => checkPolicy({ kind: 'm-of-n' } as unknown as GroupPolicy, 3))).toBe('INVALID_INPUT');
    expect(codeOf(() => checkPolicy(null as unknown as GroupPolicy, 3))).toBe('INVALID_INPUT');
  });

  it(`every allowed k-of-n has at most ${MAX_SUBSET_LEAVES} leaves, one per k-subset`, () => {
    let most = 0;
    for (let n = 3; n <= MAX_THRESHOLD_SIGNERS; n++) {
      for (let k = 2; k < n; k++) {
        const subsets = spendingSubsets(checkPolicy({ kind: 'k-of-n', k }, n), n);
        expect(subsets).toHaveLength(binomial(n, k));
        expect(new Set(subsets.map((s) => s.join())).size).toBe(subsets.length);
        most = Math.max(most, subsets.length);
      }
    }
    expect(most).toBe(MAX_SUBSET_LEAVES);
  });

  it('orders the subsets lexicographically by position in the sorted key list', () => {
    expect(spendingSubsets({ kind: 'k-of-n', k: 2 }, 3)).toEqual([
      [0, 1],
      [0, 2],
      [1, 2],
    ]);
    const expected: number[][] = [];
    for (let a = 0; a < 5; a++) for (let b = a + 1; b < 5; b++) for (let c = b + 1; c < 5; c++) expected.push([a, b, c]);
    expect(spendingSubsets({ kind: 'k-of-n', k: 3 }, 5)).toEqual(expected);
  });

  it('accepts a recovery key or subset, members or not, and sorts the keys as musig() does', () => {
    const recovery = { keys: [key(9), key(2), key(1)], olderBlocks: 4320 };
    const policy = checkPolicy({ kind: 'k-of-n', k: 2, recovery }, 3);
    expect(policy.recovery).toEqual({ keys: [key(9), key(2), key(1)].sort(), olderBlocks: 4320 });
    expect(checkPolicy({ kind: 'n-of-n', recovery: { keys: [key(7).toUpperCase()], olderBlocks: 1 } }, 2).recovery).toEqual({
      keys: [key(7)],
      olderBlocks: 1,
    });
  });

  it.each([
    ['no keys', { keys: [], olderBlocks: 10 }, 'INVALID_INPUT'],
    ['17 keys', { keys: Array.from({ length: 17 }, (_, i) => key(i + 1)), olderBlocks: 10 }, 'INVALID_INPUT'],
    ['a key twice', { keys: [key(1), key(1)], olderBlocks: 10 }, 'DUPLICATE_SIGNER'],
    ['an x-only key', { keys: [key(1).slice(2)], olderBlocks: 10 }, 'INVALID_PUBLIC_KEY'],
    ['x not on the curve', { keys: [`02${'00'.repeat(32)}`], olderBlocks: 10 }, 'INVALID_PUBLIC_KEY'],
    ['older(0)', { keys: [key(1)], olderBlocks: 0 }, 'INVALID_INPUT'],
    ['a time-based lock', { keys: [key(1)], olderBlocks: MAX_OLDER_BLOCKS + 1 }, 'INVALID_INPUT'],
    ['fractional blocks', { keys: [key(1)], olderBlocks: 1.5 }, 'INVALID_INPUT'],
    ['no keys list', { olderBlocks: 10 }, 'INVALID_INPUT'],
  ])('refuses a recovery path with %s', (_name, recovery, code) => {
    expect(codeOf(() => checkPolicy({ kind: 'k-of-n', k: 2, recovery } as GroupPolicy, 3))).toBe(code);
  });
});

function depths<T>(tree: TreeShape<T>, depth = 0): number[] {
  return Array.isArray(tree) ? [...depths(tree[0] as TreeShape<T>, depth + 1), ...depths(tree[1] as TreeShape<T>, depth + 1)] : [depth];
}

describe('balanced script tree', () => {
  it('writes the shapes docs/GROUPS.md shows', () => {
    const items = (m: number) => Array.from({ length: m }, (_, i) => i);
    expect(balancedTree(items(1))).toBe(0);
    expect(balancedTree(items(3))).toEqual([0, [1, 2]]);
    expect(balancedTree(items(4))).toEqual([
      [0, 1],
      [2, 3],
    ]);
    expect(balancedTree(items(11))).toEqual([
      [
        [0, 1],
        [2, [3, 4]],
      ],
      [
        [5, [6, 7]],
        [8, [9, 10]],
      ],
    ]);
  });

  it('keeps items in order, every leaf within one level of log2 m, and the last item deepest', () => {
    for (let m = 1; m <= MAX_SUBSET_LEAVES + 1; m++) {
      const items = Array.from({ length: m }, (_, i) => i);
      const tree = balancedTree(items);
      expect(tree.toString().split(',').map(Number)).toEqual(items);
      const d = depths(tree);
      expect(Math.min(...d)).toBe(Math.floor(Math.log2(m)));
      expect(Math.max(...d)).toBe(Math.ceil(Math.log2(m)));
      expect(d[m - 1]).toBe(Math.max(...d));
      // Kraft equality: a full binary tree, no wasted branch.
      expect(d.reduce((sum, x) => sum + 2 ** -x, 0)).toBe(1);
    }
  });
});
