/**
 * BIP341 script trees: the leaf scripts a group uses, the shape of the tree, and the commitment
 * (merkle root, output key, control blocks). The shape is ours, not a library's balancing
 * heuristic: a descriptor writes the same shape, so it must be a rule a second implementation can
 * follow (docs/GROUPS.md).
 *
 * The commitment is BIP341's hashing and one point tweak, done here with @noble's tagged hashes:
 * @scure/btc-signer's p2tr re-validates every leaf key and the internal key (a square root each)
 * and tweaks in constant time, for public data, which was most of an output's cost. Tests compare
 * every field with p2tr and bitcoinjs-lib for many trees and derivations.
 */
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToNumberBE } from '@noble/curves/utils.js';
import { concatBytes } from '@noble/hashes/utils.js';
import { Script } from '@scure/btc-signer';
import type { BitcoinNetwork } from '../../preload/contract.ts';
import { CosignerError } from '../errors.ts';
import { taprootAddress } from './group.ts';

const { Point } = secp256k1;
const { taggedHash, lift_x } = schnorr.utils;

/** BIP342's leaf version for tapscript: the only one the group's leaves use. */
export const TAPSCRIPT_LEAF_VERSION = 0xc0;

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

/** Bitcoin's CompactSize length prefix (scripts here are far below 2^32 bytes). */
function compactSize(n: number): Uint8Array {
  if (n < 0xfd) return Uint8Array.of(n);
  const wide = n <= 0xffff;
  const out = new Uint8Array(wide ? 3 : 5);
  out[0] = wide ? 0xfd : 0xfe;
  const view = new DataView(out.buffer);
  if (wide) view.setUint16(1, n, true);
  else view.setUint32(1, n, true);
  return out;
}

const isScript = (node: TreeShape<Uint8Array>): node is Uint8Array => node instanceof Uint8Array;

interface HashedLeaf {
  readonly script: Uint8Array;
  readonly leafHash: Uint8Array;
  /** The merkle path from the leaf up: each level's sibling hash. */
  readonly path: Uint8Array[];
}

/** The BIP341 hash of a (sub)tree and its leaves, left to right, with their merkle paths so far. */
function hashTree(tree: TreeShape<Uint8Array>): { readonly hash: Uint8Array; readonly leaves: HashedLeaf[] } {
  if (isScript(tree)) {
    const leafHash = taggedHash('TapLeaf', Uint8Array.of(TAPSCRIPT_LEAF_VERSION), compactSize(tree.length), tree);
    return { hash: leafHash, leaves: [{ script: tree, leafHash, path: [] }] };
  }
  const left = hashTree(tree[0]);
  const right = hashTree(tree[1]);
  for (const leaf of left.leaves) leaf.path.push(right.hash);
  for (const leaf of right.leaves) leaf.path.push(left.hash);
  // TapBranch hashes its children in lexicographic order.
  const [a, b] = precedes(right.hash, left.hash) ? [right.hash, left.hash] : [left.hash, right.hash];
  return { hash: taggedHash('TapBranch', a, b), leaves: [...left.leaves, ...right.leaves] };
}

/** Whether 32-byte hash `a` sorts before `b`, byte by byte. */
function precedes(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return (a[i] as number) < (b[i] as number);
  return false;
}

/**
 * BIP341 taproot tweak of an x-only key: Q = lift_x(P) + t·G, t = TapTweak(P || merkleRoot). The
 * variable-time multiply is fine: every value here is public.
 */
function tweakKey(internalKey: Uint8Array, merkleRoot: Uint8Array | undefined): { outputKey: Uint8Array; oddY: boolean } {
  let P: InstanceType<typeof Point>;
  try {
    if (internalKey.length !== 32) throw new Error('an x-only key is 32 bytes');
    P = lift_x(bytesToNumberBE(internalKey));
  } catch (e) {
    throw new CosignerError('INVALID_PUBLIC_KEY', 'a taproot internal key is the x coordinate of a curve point', {}, { cause: e });
  }
  const hash = merkleRoot === undefined ? taggedHash('TapTweak', internalKey) : taggedHash('TapTweak', internalKey, merkleRoot);
  const t = Point.Fn.fromBytes(hash, true);
  // A tweak of n or more, or an output at infinity, takes a hash preimage: refused, never met.
  const Q = Point.Fn.isValid(t) ? P.add(Point.BASE.multiplyUnsafe(t)) : Point.ZERO;
  if (Q.is0()) throw new CosignerError('INTERNAL', 'this key and tree give no taproot output key');
  const { x, y } = Q.toAffine();
  return { outputKey: Point.Fp.toBytes(x), oddY: (y & 1n) === 1n };
}

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
    const { outputKey } = tweakKey(internalKey, undefined);
    return Object.freeze({ internalKey, merkleRoot: undefined, outputKey, address: taprootAddress(outputKey, network), leaves: [] });
  }
  const { hash: merkleRoot, leaves: hashed } = hashTree(tree);
  const { outputKey, oddY } = tweakKey(internalKey, merkleRoot);
  const firstByte = Uint8Array.of(TAPSCRIPT_LEAF_VERSION | (oddY ? 1 : 0));
  const leaves = hashed.map((leaf) =>
    Object.freeze({
      script: leaf.script,
      leafHash: leaf.leafHash,
      controlBlock: concatBytes(firstByte, internalKey, ...leaf.path),
      depth: leaf.path.length,
    }),
  );
  return Object.freeze({ internalKey, merkleRoot, outputKey, address: taprootAddress(outputKey, network), leaves: Object.freeze(leaves) });
}
