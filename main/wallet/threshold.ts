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
 * Each key is derived through the MuSig2 engine (bip328.ts childNode: one base-point multiplication
 * a step), so deriving an output gives the signing context of every key in it (withContexts) and a
 * spend along any path derives nothing more. Tests derive the same keys with @scure/bip32 and compare.
 *
 * An n-of-n group with no recovery path has no script tree: its outputs are exactly GroupKeys'.
 */
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import type { BitcoinNetwork } from '../../preload/contract.ts';
import { CosignerError } from '../errors.ts';
import { aggregateKeys, type KeyAggContext } from '../musig/index.ts';
import { aggregateNode, childNode, HARDENED_OFFSET, MAX_DERIVATION_DEPTH, type Bip328Node } from './bip328.ts';
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

/**
 * The MuSig2 contexts of an output's keys, as its derivation made them (the aggregates with their
 * BIP328 tweaks, no taproot tweak). Kept apart from the output: a few kB each, too many to cache
 * with every output a wallet scans.
 */
export interface OutputContexts {
  /** The group's: its x-only key is the output's internal key. */
  readonly internal: KeyAggContext;
  /** Each leaf's signers', in leaf order, whose x-only key is the leaf's; undefined for one key, which signs alone. */
  readonly leaves: readonly (KeyAggContext | undefined)[];
}

/** Parents (`path` without its last step) kept per group: receive and change, and a few more. */
const MAX_CACHED_PARENTS = 8;

/** A key in a leaf or the internal key: derived along BIP328 paths when it is an aggregate. */
type KeyRoot = { readonly derived: true; readonly node: Bip328Node } | { readonly derived: false; readonly xOnly: Uint8Array };

/** A key of one output: x-only, with its MuSig2 context when it is an aggregate. */
interface OutputKey {
  readonly xOnly: Uint8Array;
  readonly ctx: KeyAggContext | undefined;
}

const keyOf = (node: Bip328Node): OutputKey => ({ xOnly: node.childCtx.xOnlyKey, ctx: node.childCtx });

export class GroupOutputs {
  /** The untweaked MuSig2 aggregate of the sorted keys: the key path, as in GroupKeys. */
  readonly group: KeyAggContext;
  readonly policy: GroupPolicy;
  /** The signers of each subset leaf (sorted compressed keys, hex), in leaf order. */
  readonly subsets: readonly (readonly string[])[];
  readonly #roots: readonly KeyRoot[];
  readonly #parents = new Map<string, readonly (Bip328Node | undefined)[]>();

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
    return this.withContexts(path, network).output;
  }

  /** The output at `path` and the signing contexts its derivation gave. */
  withContexts(path: readonly number[], network: BitcoinNetwork): { output: ThresholdOutput; contexts: OutputContexts } {
    const keys = this.#keysAt(path);
    const internal = keys[0] as OutputKey;
    const recovery = this.policy.recovery;
    const scripts = this.subsets.map((_, i) => pkLeafScript((keys[i + 1] as OutputKey).xOnly));
    if (recovery !== undefined) scripts.push(olderLeafScript((keys[keys.length - 1] as OutputKey).xOnly, recovery.olderBlocks));
    const commitment = taprootCommitment(internal.xOnly, scripts.length === 0 ? undefined : balancedTree(scripts), network);
    const leaves = commitment.leaves.map((leaf, i): ThresholdLeaf => {
      const key = (keys[i + 1] as OutputKey).xOnly;
      const subset = this.subsets[i];
      if (subset !== undefined) return Object.freeze({ ...leaf, kind: 'subset', signers: subset, key });
      // Past the subsets there is only the recovery leaf.
      const { keys: signers, olderBlocks } = recovery as RecoveryPath;
      return Object.freeze({ ...leaf, kind: 'recovery', signers, olderBlocks, key });
    });
    return {
      output: Object.freeze({ ...commitment, path: Object.freeze([...path]), leaves: Object.freeze(leaves) }),
      contexts: Object.freeze({
        internal: internal.ctx as KeyAggContext,
        leaves: Object.freeze(keys.slice(1).map((k) => k.ctx)),
      }),
    };
  }

  /** The taproot address at `path` (`[RECEIVE_BRANCH, i]` is receive address i). */
  address(path: readonly number[], network: BitcoinNetwork): string {
    return this.at(path, network).address;
  }

  /** Every root's key at `path`: internal key, subset leaves, then the recovery key. */
  #keysAt(path: readonly number[]): OutputKey[] {
    checkPath(path);
    if (path.length === 0) return this.#roots.map((root) => (root.derived ? keyOf(root.node) : { xOnly: root.xOnly, ctx: undefined }));
    const parents = this.#parentsOf(path.slice(0, -1));
    const index = path[path.length - 1] as number;
    return this.#roots.map((root, i) =>
      root.derived ? keyOf(childNode(parents[i] as Bip328Node, index)) : { xOnly: root.xOnly, ctx: undefined },
    );
  }

  #parentsOf(parentPath: readonly number[]): readonly (Bip328Node | undefined)[] {
    const id = parentPath.join('/');
    const cached = this.#parents.get(id);
    if (cached) return cached;
    const parents = this.#roots.map((root) => (root.derived ? parentPath.reduce(childNode, root.node) : undefined));
    if (this.#parents.size >= MAX_CACHED_PARENTS) this.#parents.delete(this.#parents.keys().next().value as string);
    this.#parents.set(id, parents);
    return parents;
  }
}

function aggregateRoot(ctx: KeyAggContext): KeyRoot {
  return { derived: true, node: aggregateNode(ctx) };
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
