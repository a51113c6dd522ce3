/**
 * The taproot outputs of a group under its policy (threshold-policy.ts). The key path is always the
 * MuSig2 key of all n signers. A k-of-n group adds one leaf `pk(musig(S))` per k-subset S, in the
 * canonical order; a recovery path adds `and_v(v:pk(K),older(N))` last. The leaves form the
 * balanced tree of tap-tree.ts, so the recovery leaf is among the deepest.
 *
 * At a BIP328 path (receive `[0, i]`, change `[1, i]`) every MuSig2 key - the internal key, each
 * subset's key, a recovery subset's key - is its aggregate's synthetic xpub derived along the path,
 * which is what `musig(...)/0/*` means in BIP390. A single recovery key is not derived: it is the
 * same in every output (a signer's key has no chain code of its own).
 *
 * An n-of-n group with no recovery path has no script tree: its outputs are exactly GroupKeys'.
 */
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { HDKey } from '@scure/bip32';
import type { BitcoinNetwork } from '../../preload/contract.ts';
import { CosignerError } from '../errors.ts';
import { aggregateKeys, type KeyAggContext } from '../musig/index.ts';
import { BIP328_CHAIN_CODE, HARDENED_OFFSET, MAX_DERIVATION_DEPTH } from './bip328.ts';
import { groupKeyAgg } from './group.ts';
import { balancedTree, olderLeafScript, pkLeafScript, taprootCommitment, type TapLeaf, type TaprootCommitment } from './tap-tree.ts';
import { checkPolicy, spendingSubsets, type GroupPolicy, type RecoveryPath } from './threshold-policy.ts';

export type ThresholdLeaf = TapLeaf & {
  /** The x-only key in the leaf script (after derivation). */
  readonly key: Uint8Array;
  /** Who signs for this leaf: sorted compressed keys, hex (one key, or a MuSig2 set). */
  readonly signers: readonly string[];
} & ({ readonly kind: 'subset' } | { readonly kind: 'recovery'; readonly olderBlocks: number });

export interface ThresholdOutput extends TaprootCommitment {
  readonly path: readonly number[];
  readonly leaves: readonly ThresholdLeaf[];
}

/** Parents (`path` without its last step) kept per group: receive and change, and a few more. */
const MAX_CACHED_PARENTS = 8;

/** A key in a leaf or the internal key: derived along BIP328 paths when it is an aggregate. */
type KeyRoot = { readonly derived: true; readonly node: HDKey } | { readonly derived: false; readonly xOnly: Uint8Array };

export class GroupOutputs {
  /** The untweaked MuSig2 aggregate of the sorted keys: the key path, as in GroupKeys. */
  readonly group: KeyAggContext;
  readonly policy: GroupPolicy;
  /** The signers of each subset leaf (sorted compressed keys, hex), in leaf order. */
  readonly subsets: readonly (readonly string[])[];
  readonly #roots: readonly KeyRoot[];
  readonly #parents = new Map<string, readonly (HDKey | undefined)[]>();

  constructor(publicKeysHex: readonly string[], policy: GroupPolicy) {
    this.group = groupKeyAgg(publicKeysHex);
    this.policy = checkPolicy(policy, this.group.publicKeys.length);
    const sorted = this.group.publicKeys;
    const subsetKeys = spendingSubsets(this.policy, sorted.length).map((positions) => positions.map((p) => sorted[p] as Uint8Array));
    this.subsets = Object.freeze(subsetKeys.map((keys) => Object.freeze(keys.map((k) => bytesToHex(k)))));
    const roots: KeyRoot[] = [aggregateRoot(this.group), ...subsetKeys.map((keys) => aggregateRoot(aggregateKeys(keys)))];
    const recovery = this.policy.recovery;
    if (recovery !== undefined) {
      const keys = recovery.keys.map((k) => hexToBytes(k));
      roots.push(keys.length === 1 ? { derived: false, xOnly: (keys[0] as Uint8Array).subarray(1) } : aggregateRoot(aggregateKeys(keys)));
    }
    this.#roots = Object.freeze(roots);
  }

  /** Whether outputs have a script path (k-of-n, or a recovery path). */
  get hasScriptTree(): boolean {
    return this.#roots.length > 1;
  }

  /** The output at `path` below the group key (`[]` is the group's own output). */
  at(path: readonly number[], network: BitcoinNetwork): ThresholdOutput {
    const keys = this.#keysAt(path);
    const internalKey = keys[0] as Uint8Array;
    const recovery = this.policy.recovery;
    const scripts = this.subsets.map((_, i) => pkLeafScript(keys[i + 1] as Uint8Array));
    if (recovery !== undefined) scripts.push(olderLeafScript(keys[keys.length - 1] as Uint8Array, recovery.olderBlocks));
    const commitment = taprootCommitment(internalKey, scripts.length === 0 ? undefined : balancedTree(scripts), network);
    const leaves = commitment.leaves.map((leaf, i): ThresholdLeaf => {
      const key = keys[i + 1] as Uint8Array;
      const subset = this.subsets[i];
      if (subset !== undefined) return Object.freeze({ ...leaf, kind: 'subset', signers: subset, key });
      // Past the subsets there is only the recovery leaf.
      const { keys: signers, olderBlocks } = recovery as RecoveryPath;
      return Object.freeze({ ...leaf, kind: 'recovery', signers, olderBlocks, key });
    });
    return Object.freeze({ ...commitment, path: Object.freeze([...path]), leaves: Object.freeze(leaves) });
  }

  /** The taproot address at `path` (`[RECEIVE_BRANCH, i]` is receive address i). */
  address(path: readonly number[], network: BitcoinNetwork): string {
    return this.at(path, network).address;
  }

  /** The x-only key of every root at `path`: internal key, subset leaves, then the recovery key. */
  #keysAt(path: readonly number[]): Uint8Array[] {
    checkPath(path);
    if (path.length === 0) return this.#roots.map((root) => (root.derived ? (root.node.publicKey as Uint8Array).subarray(1) : root.xOnly));
    const parents = this.#parentsOf(path.slice(0, -1));
    const index = path[path.length - 1] as number;
    return this.#roots.map((root, i) =>
      root.derived ? (child(parents[i] as HDKey, index).publicKey as Uint8Array).subarray(1) : root.xOnly,
    );
  }

  #parentsOf(parentPath: readonly number[]): readonly (HDKey | undefined)[] {
    const id = parentPath.join('/');
    const cached = this.#parents.get(id);
    if (cached) return cached;
    const parents = this.#roots.map((root) => (root.derived ? parentPath.reduce(child, root.node) : undefined));
    if (this.#parents.size >= MAX_CACHED_PARENTS) this.#parents.delete(this.#parents.keys().next().value as string);
    this.#parents.set(id, parents);
    return parents;
  }
}

function aggregateRoot(ctx: KeyAggContext): KeyRoot {
  return { derived: true, node: new HDKey({ publicKey: ctx.aggregateKey, chainCode: BIP328_CHAIN_CODE }) };
}

function checkPath(path: readonly number[]): void {
  if (!Array.isArray(path) || path.length > MAX_DERIVATION_DEPTH) {
    throw new CosignerError('INVALID_INPUT', `a derivation path has at most ${MAX_DERIVATION_DEPTH} steps`);
  }
  path.forEach((index, step) => {
    if (!Number.isInteger(index) || index < 0 || index >= HARDENED_OFFSET) {
      throw new CosignerError('INVALID_INPUT', 'derivation from an aggregate key is unhardened only', { step });
    }
  });
}

/**
 * BIP32 CKDpub. @scure/bip32 moves on to index + 1 when an index gives no valid key (probability
 * about 2^-127); like deriveGroupKey, we refuse instead: which index comes next is the caller's call.
 */
function child(node: HDKey, index: number): HDKey {
  const next = node.deriveChild(index);
  if (next.index !== index)
    throw new CosignerError('INVALID_INPUT', 'this derivation index gives no valid key; use the next one', { index });
  return next;
}
