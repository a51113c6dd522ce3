/**
 * BIP341 script trees: the leaf scripts a group uses, the shape of the tree, and the commitment
 * (merkle root, output key, control blocks) computed by @scure/btc-signer's p2tr. The shape is
 * ours, not the library's balancing heuristic: a descriptor writes the same shape, so it must be a
 * rule a second implementation can follow (docs/GROUPS.md).
 */
import { equalBytes } from '@noble/curves/utils.js';
import { p2tr, Script, TaprootControlBlock } from '@scure/btc-signer';
import { TAP_LEAF_VERSION } from '@scure/btc-signer/payment.js';
import type { BitcoinNetwork } from '../../preload/contract.ts';
import { CosignerError } from '../errors.ts';
import { BTC_NETWORKS } from './networks.ts';

/** A binary tree: a leaf, or a pair of subtrees (left, right) as a descriptor's {L,R} writes it. */
export type TreeShape<T> = T | readonly [TreeShape<T>, TreeShape<T>];

/**
 * The items as a balanced binary tree, in order from left to right: the left half gets
 * floor(m/2) items, the right half the rest, recursively. Every leaf is at depth floor(log2 m)
 * or ceil(log2 m) (the least total depth for leaves spent equally often: nothing says which
 * signers will be the ones present), and the last item is at the greatest depth, where the
 * rarely used recovery leaf belongs.
 */
export function balancedTree<T>(items: readonly T[]): TreeShape<T> {
  if (items.length === 0) throw new CosignerError('INTERNAL', 'a script tree has at least one leaf');
  if (items.length === 1) return items[0] as T;
  const half = Math.floor(items.length / 2);
  return [balancedTree(items.slice(0, half)), balancedTree(items.slice(half))];
}

/** `pk(K)` in tapscript: `<xonly K> OP_CHECKSIG`. */
export function pkLeafScript(xOnlyKey: Uint8Array): Uint8Array {
  return Script.encode([xOnlyKey, 'CHECKSIG']);
}

/** `and_v(v:pk(K),older(N))`: `<xonly K> OP_CHECKSIGVERIFY <N> OP_CHECKSEQUENCEVERIFY` (N minimally encoded). */
export function olderLeafScript(xOnlyKey: Uint8Array, olderBlocks: number): Uint8Array {
  return Script.encode([xOnlyKey, 'CHECKSIGVERIFY', olderBlocks, 'CHECKSEQUENCEVERIFY']);
}

export interface TapLeaf {
  readonly script: Uint8Array;
  /** BIP341 tagged hash TapLeaf(0xc0 || compact_size(script) || script). */
  readonly leafHash: Uint8Array;
  /** What a script-path spend of this leaf puts last in the witness. */
  readonly controlBlock: Uint8Array;
  /** Number of merkle-path hashes: (controlBlock.length - 33) / 32. */
  readonly depth: number;
}

export interface TaprootCommitment {
  readonly internalKey: Uint8Array;
  /** Merkle root of the tree; undefined for a key-path-only output (BIP86 tweak of the key alone). */
  readonly merkleRoot: Uint8Array | undefined;
  readonly outputKey: Uint8Array;
  readonly address: string;
  /** The leaves in left-to-right order of the tree. */
  readonly leaves: readonly TapLeaf[];
}

function flatten<T>(tree: TreeShape<T>, isLeaf: (node: TreeShape<T>) => node is T): T[] {
  return isLeaf(tree) ? [tree] : [...flatten(tree[0], isLeaf), ...flatten(tree[1], isLeaf)];
}

const isScript = (node: TreeShape<Uint8Array>): node is Uint8Array => node instanceof Uint8Array;

/**
 * The taproot output of `internalKey` (x-only) committing to `tree` (tapscript leaves, version
 * 0xc0), or to no script path when `tree` is undefined. Leaf scripts are not inspected here: which
 * scripts a group may use is decided by the caller.
 */
export function taprootCommitment(
  internalKey: Uint8Array,
  tree: TreeShape<Uint8Array> | undefined,
  network: BitcoinNetwork,
): TaprootCommitment {
  if (tree === undefined) {
    const pay = p2tr(internalKey, undefined, BTC_NETWORKS[network]);
    return Object.freeze({ internalKey, merkleRoot: undefined, outputKey: pay.tweakedPubkey, address: pay.address, leaves: [] });
  }
  const scripts = flatten(tree, isScript);
  // allowUnknownOutputs: the library knows pk leaves but not and_v(v:pk,older); we build both.
  const pay = p2tr(internalKey, toLibraryTree(tree), BTC_NETWORKS[network], true);
  if (pay.leaves.length !== scripts.length || pay.leaves.some((leaf, i) => !equalBytes(leaf.script, scripts[i] as Uint8Array))) {
    throw new CosignerError('INTERNAL', 'the taproot library reordered the script tree');
  }
  // tapLeafScript holds each leaf's control block, in the order of pay.leaves.
  const leaves = pay.leaves.map((leaf, i) => {
    const [controlBlock] = pay.tapLeafScript?.[i] ?? [];
    if (controlBlock === undefined) throw new CosignerError('INTERNAL', 'the taproot library gave no control block');
    return Object.freeze({
      script: leaf.script,
      leafHash: leaf.hash,
      controlBlock: TaprootControlBlock.encode(controlBlock),
      depth: leaf.path.length,
    });
  });
  return Object.freeze({
    internalKey,
    merkleRoot: pay.tapMerkleRoot,
    outputKey: pay.tweakedPubkey,
    address: pay.address,
    leaves: Object.freeze(leaves),
  });
}

/** The library rebalances any array that is not a pair; ours are all pairs, so it keeps our shape. */
type LibraryTree = { script: Uint8Array; leafVersion: number } | LibraryTree[];

function toLibraryTree(tree: TreeShape<Uint8Array>): LibraryTree {
  return isScript(tree) ? { script: tree, leafVersion: TAP_LEAF_VERSION } : [toLibraryTree(tree[0]), toLibraryTree(tree[1])];
}
