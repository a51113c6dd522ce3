/**
 * The BIP371 fields a spend of a group with a policy carries, so that every signer (ours, or any
 * BIP371/BIP373 wallet such as Bitcoin Core) can recognise its inputs and change and sign along the
 * chosen path: the internal key, the merkle root, the leaf script with its control block for a leaf
 * spend, and a BIP32 derivation for every key of the output, each with the hashes of the leaves it
 * is in (BIP371). A MuSig2 key is derived from its aggregate's synthetic xpub (BIP328), so its
 * fingerprint is the aggregate's; a single recovery key is not derived (path m, its own fingerprint).
 */
import { equalBytes } from '@noble/curves/utils.js';
import { concatBytes, hexToBytes } from '@noble/hashes/utils.js';
import { TaprootControlBlock, type Transaction } from '@scure/btc-signer';
import { keyFingerprint } from './bip328.ts';
import { TAPSCRIPT_LEAF_VERSION } from './tap-tree.ts';
import type { SpendKeys } from './spend-keys.ts';
import type { SpendPath } from './spend-path.ts';
import type { ThresholdOutput } from './threshold.ts';

type InputFields = Parameters<Transaction['updateInput']>[1];
type OutputFields = Parameters<Transaction['updateOutput']>[1];

type Derivations = [Uint8Array, { hashes: Uint8Array[]; der: { fingerprint: number; path: number[] } }][];

/**
 * The derivation entries of every key of `output`: the internal key, then each leaf's key. A key in
 * two places (a recovery set that is one of the subsets, or all n) is one entry with every leaf
 * hash it is in: BIP371 keys the field by x-only key, and a PSBT cannot hold it twice.
 */
function derivations(spend: SpendKeys, output: ThresholdOutput): Derivations {
  const entries: Derivations = [
    [output.internalKey, { hashes: [], der: { fingerprint: keyFingerprint(spend.outputs.group.aggregateKey), path: [...output.path] } }],
  ];
  for (const leaf of output.leaves) {
    const same = entries.find(([key]) => equalBytes(key, leaf.key));
    if (same) {
      same[1].hashes.push(leaf.leafHash);
      continue;
    }
    const signers = leaf.signers.map((k) => hexToBytes(k));
    const single = signers.length === 1;
    const fingerprint = keyFingerprint(single ? (signers[0] as Uint8Array) : spend.aggregate(signers).aggregateKey);
    entries.push([leaf.key, { hashes: [leaf.leafHash], der: { fingerprint, path: single ? [] : [...output.path] } }]);
  }
  return entries;
}

/**
 * The fields of an input spending the group's output at `derivation` along `path`, and the nSequence
 * a recovery leaf needs (older(N), BIP68 block-based: the transaction must be version 2 or more).
 */
export function pathInputFields(
  spend: SpendKeys,
  derivation: readonly number[],
  path: SpendPath,
): { fields: InputFields; sequence?: number } {
  const key = spend.key(derivation, path);
  const { output, leaf } = key;
  const fields: InputFields = {
    tapInternalKey: output.internalKey,
    tapBip32Derivation: derivations(spend, output),
    ...(output.merkleRoot ? { tapMerkleRoot: output.merkleRoot } : {}),
    ...(leaf
      ? {
          tapLeafScript: [[TaprootControlBlock.decode(leaf.controlBlock), concatBytes(leaf.script, Uint8Array.of(TAPSCRIPT_LEAF_VERSION))]],
        }
      : {}),
  };
  if (leaf?.kind === 'recovery') return { fields, sequence: leaf.olderBlocks };
  return { fields };
}

/** The fields of a change output paying the group at `derivation`: internal key, tree, derivations. */
export function pathOutputFields(spend: SpendKeys, derivation: readonly number[]): OutputFields {
  const output = spend.at(derivation);
  return {
    tapInternalKey: output.internalKey,
    tapBip32Derivation: derivations(spend, output),
    ...(output.leaves.length > 0
      ? {
          // BIP371 PSBT_OUT_TAP_TREE: the leaves in depth-first order, which is the tree's left-to-right order.
          tapTree: output.leaves.map((leaf) => ({
            depth: (leaf.controlBlock.length - 33) / 32,
            version: TAPSCRIPT_LEAF_VERSION,
            script: leaf.script,
          })),
        }
      : {}),
  };
}
