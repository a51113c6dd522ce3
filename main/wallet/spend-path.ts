/**
 * Who signs, under which key, for one of a group's spending paths at one output: the key path (the
 * MuSig2 key of all n, taproot-tweaked with the tree's merkle root), a `pk(musig(S))` subset leaf
 * (the MuSig2 key of S, BIP328-derived, untweaked: BIP342 checks it as it stands in the script), or
 * the recovery leaf (the MuSig2 key of its keys, or its one plain key).
 *
 * A leaf's signing context is the one its output was derived with (threshold.ts); the key path's is
 * the output's internal context with the taproot tweak, computed here by the MuSig2 engine, while
 * the output key it must reproduce was computed by tap-tree.ts's own BIP341 tweak: a mismatch is
 * refused, never signed.
 */
import { equalBytes } from '@noble/curves/utils.js';
import { hexToBytes } from '@noble/hashes/utils.js';
import type { BitcoinNetwork } from '../../preload/contract.ts';
import { CosignerError } from '../errors.ts';
import { withTaprootTweak, type KeyAggContext } from '../musig/index.ts';
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

/** The signing key of `path` for the output at `derivation` (`[]`: the group's own output). */
export function pathKey(
  outputs: Pick<GroupOutputs, 'group' | 'withContexts'>,
  derivation: readonly number[],
  path: SpendPath,
  network: BitcoinNetwork,
): PathKey {
  const { output, contexts } = outputs.withContexts(derivation, network);
  if (path.kind === 'key') {
    const ctx = withTaprootTweak(contexts.internal, output.merkleRoot);
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
  // A single recovery key is written into the leaf as it is, never aggregated or derived: no ctx.
  return checked({ path, output, leaf, signers, ctx: contexts.leaves[path.leaf], verifyKey: leaf.key, leafHash: leaf.leafHash });
}

function checked(key: PathKey): PathKey {
  const made = key.ctx?.xOnlyKey ?? (key.signers[0] as Uint8Array).subarray(1);
  if (!equalBytes(made, key.verifyKey)) {
    throw new CosignerError('INTERNAL', 'the signing key does not reproduce the key the output commits to');
  }
  return Object.freeze(key);
}
