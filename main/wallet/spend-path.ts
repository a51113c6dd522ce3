/**
 * Who signs, under which key, for one of a group's spending paths at one output: the key path (the
 * MuSig2 key of all n, taproot-tweaked with the tree's merkle root), a `pk(musig(S))` subset leaf
 * (the MuSig2 key of S, BIP328-derived, untweaked: BIP342 checks it as it stands in the script), or
 * the recovery leaf (the MuSig2 key of its keys, or its one plain key).
 *
 * Every signing context is built here from the keys and the derivation, and must reproduce the key
 * the output commits to (threshold.ts, computed the other way, through BIP32 public derivation of
 * each aggregate's synthetic xpub): a mismatch is refused, never signed.
 */
import { equalBytes } from '@noble/curves/utils.js';
import { hexToBytes } from '@noble/hashes/utils.js';
import type { BitcoinNetwork } from '../../preload/contract.ts';
import { CosignerError } from '../errors.ts';
import { aggregateKeys, withTaprootTweak, type KeyAggContext } from '../musig/index.ts';
import { deriveGroupKey, type DerivedGroupKey } from './bip328.ts';
import type { GroupOutputs, ThresholdLeaf, ThresholdOutput } from './threshold.ts';

/** A spending path of a group: its key path, or leaf `leaf` in the tree's left-to-right order. */
export type SpendPath = { readonly kind: 'key' } | { readonly kind: 'leaf'; readonly leaf: number };

export const KEY_PATH: SpendPath = Object.freeze({ kind: 'key' });

export interface PathKey {
  readonly path: SpendPath;
  /** The output spent (its address, keys, merkle root and leaves). */
  readonly output: ThresholdOutput;
  /** The leaf executed; undefined on the key path. */
  readonly leaf: ThresholdLeaf | undefined;
  /** Who signs: sorted 33-byte keys (all n on the key path). */
  readonly signers: readonly Uint8Array[];
  /** The MuSig2 context the signature is made under; undefined where one plain key signs alone. */
  readonly ctx: KeyAggContext | undefined;
  /** The x-only key the signature verifies under: the output key, or the key in the leaf script. */
  readonly verifyKey: Uint8Array;
  /** The leaf's BIP341 hash, what a script-path signature message commits to; undefined on the key path. */
  readonly leafHash: Uint8Array | undefined;
}

/**
 * Where pathKey takes its keys from: computed afresh by default; a PSBT's inputs share a cache
 * (spend-keys.ts), since each derivation and aggregation is a point multiplication or more.
 */
export interface KeySource {
  /** The BIP328 child at `derivation` of an untweaked aggregate. */
  derive(ctx: KeyAggContext, derivation: readonly number[]): DerivedGroupKey;
  /** The MuSig2 aggregate of sorted keys. */
  aggregate(keys: readonly Uint8Array[]): KeyAggContext;
}

const FRESH: KeySource = { derive: deriveGroupKey, aggregate: aggregateKeys };

/** The signing key of `path` for the output at `derivation` (`[]`: the group's own output). */
export function pathKey(
  outputs: Pick<GroupOutputs, 'group' | 'at'>,
  derivation: readonly number[],
  path: SpendPath,
  network: BitcoinNetwork,
  source: KeySource = FRESH,
): PathKey {
  const output = outputs.at(derivation, network);
  if (path.kind === 'key') {
    const child = source.derive(outputs.group, derivation).childCtx;
    const ctx = withTaprootTweak(child, output.merkleRoot);
    return checked({
      path,
      output,
      leaf: undefined,
      signers: outputs.group.publicKeys,
      ctx,
      verifyKey: output.outputKey,
      leafHash: undefined,
    });
  }
  const leaf = output.leaves[path.leaf];
  if (leaf === undefined || !Number.isInteger(path.leaf)) {
    throw new CosignerError('INVALID_INPUT', `this group has no leaf ${path.leaf}`, { leaf: Number(path.leaf) });
  }
  const signers = leaf.signers.map((key) => hexToBytes(key));
  // A single recovery key is written into the leaf as it is, never aggregated or derived.
  const ctx = signers.length === 1 ? undefined : source.derive(source.aggregate(signers), derivation).childCtx;
  return checked({ path, output, leaf, signers, ctx, verifyKey: leaf.key, leafHash: leaf.leafHash });
}

function checked(key: PathKey): PathKey {
  const made = key.ctx?.xOnlyKey ?? (key.signers[0] as Uint8Array).subarray(1);
  if (!equalBytes(made, key.verifyKey)) {
    throw new CosignerError('INTERNAL', 'the signing key does not reproduce the key the output commits to');
  }
  return Object.freeze(key);
}
