/**
 * Which inputs of a PSBT a group with a policy spends along one of its paths (spend-path.ts): the
 * key path, or one leaf. Nothing the PSBT claims is taken on its word: the output is re-derived at
 * the claimed BIP328 path and must be the witness UTXO's output key; the internal key, merkle root,
 * every leaf script with its control block, and every derivation's leaf hashes must be the group's
 * at that output. An input that names a leaf, script or control block the group does not have is
 * refused in words, whatever path is being signed: a PSBT that lies about one thing is not signed.
 *
 * The key-path-only n-of-n group keeps its own classification (psbt-import.ts, GroupKeys).
 */
import { equalBytes } from '@noble/curves/utils.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { TaprootControlBlock, type Transaction } from '@scure/btc-signer';
import { refused, sighashRefusal, spentOutputRefusal, type ClassifyOptions, type ImportedPsbt, type RefusedInput } from './psbt-import.ts';
import { SIGHASH_DEFAULT } from './psbt-sighash.ts';
import type { SpendKeys } from './spend-keys.ts';
import type { PathKey, SpendPath } from './spend-path.ts';
import { TAPSCRIPT_LEAF_VERSION } from './tap-tree.ts';
import type { ThresholdLeaf, ThresholdOutput } from './threshold.ts';

export interface OwnPathInput {
  readonly index: number;
  readonly status: 'ours';
  readonly key: PathKey;
  readonly sighashType: number;
  readonly amount: bigint;
}

export type PathInputClass = OwnPathInput | RefusedInput;

type PsbtInput = ReturnType<Transaction['getInput']>;

// BIP68: bit 31 disables the relative lock; bit 22 makes it time-based; the low 16 bits are the value.
const SEQUENCE_DISABLE = 0x8000_0000;
const SEQUENCE_TYPE_TIME = 0x0040_0000;
const SEQUENCE_VALUE_MASK = 0xffff;

/**
 * Whether an input's nSequence satisfies `older(blocks)` (BIP112 OP_CHECKSEQUENCEVERIFY, BIP68):
 * transaction version 2 or more, the disable bit clear, a block-based lock of at least `blocks`.
 */
export function satisfiesOlder(txVersion: number, sequence: number, blocks: number): boolean {
  if (txVersion < 2) return false;
  if ((sequence & SEQUENCE_DISABLE) !== 0 || (sequence & SEQUENCE_TYPE_TIME) !== 0) return false;
  return (sequence & SEQUENCE_VALUE_MASK) >= blocks;
}

function leafOf(output: ThresholdOutput, script: Uint8Array): ThresholdLeaf | undefined {
  return output.leaves.find((leaf) => equalBytes(leaf.script, script));
}

/** Why the input's taproot metadata is not the group's output `output`, if it is not. */
function metadataRefusal(index: number, input: PsbtInput, output: ThresholdOutput, spend: SpendKeys): RefusedInput | undefined {
  if (input.tapInternalKey && !equalBytes(input.tapInternalKey, output.internalKey)) {
    return refused(index, 'inconsistent-metadata', "its taproot internal key is not the group's key for this output");
  }
  if (input.tapMerkleRoot && (output.merkleRoot === undefined || !equalBytes(input.tapMerkleRoot, output.merkleRoot))) {
    return refused(index, 'inconsistent-metadata', "its taproot merkle root is not the root of the group's script tree");
  }
  for (const [controlBlock, scriptWithVersion] of input.tapLeafScript ?? []) {
    const version = scriptWithVersion[scriptWithVersion.length - 1];
    const leaf = leafOf(output, scriptWithVersion.subarray(0, -1));
    if (!leaf || version !== TAPSCRIPT_LEAF_VERSION) {
      return refused(index, 'foreign-leaf', "it names a leaf script that is not one of the group's leaves at this address");
    }
    if (!equalBytes(TaprootControlBlock.encode(controlBlock), leaf.controlBlock)) {
      return refused(
        index,
        'wrong-control-block',
        "its control block for one of the group's leaves is not the one this address commits to",
      );
    }
  }
  for (const [xOnly, { hashes, der }] of input.tapBip32Derivation ?? []) {
    if (!spend.fingerprints.has(der.fingerprint) || der.path.join('/') !== output.path.join('/')) continue;
    if (hashes.length === 0 ? !equalBytes(xOnly, output.internalKey) : !hashes.every((h) => leafHashKey(output, h, xOnly))) {
      return refused(index, 'foreign-leaf', "its key derivation names a leaf or key that is not the group's at this address");
    }
  }
  if (input.redeemScript || input.witnessScript) {
    return refused(index, 'inconsistent-metadata', 'it carries a redeem or witness script, which a taproot spend has none of');
  }
  return undefined;
}

function leafHashKey(output: ThresholdOutput, leafHash: Uint8Array, xOnly: Uint8Array): boolean {
  return output.leaves.some((leaf) => equalBytes(leaf.leafHash, leafHash) && equalBytes(leaf.key, xOnly));
}

/** Why signatures already on the input are not this path's, if they are not. */
function signaturesRefusal(index: number, input: PsbtInput, key: PathKey): RefusedInput | undefined {
  for (const [{ pubKey, leafHash }] of input.tapScriptSig ?? []) {
    if (key.leafHash === undefined || !equalBytes(leafHash, key.leafHash) || !equalBytes(pubKey, key.verifyKey)) {
      return refused(index, 'script-path', 'it carries a script-path signature for another leaf or key than the one this request signs');
    }
  }
  if (key.leafHash !== undefined && input.tapKeySig) {
    return refused(index, 'inconsistent-metadata', 'it carries a key-path signature, yet this request signs over a leaf');
  }
  return undefined;
}

/** Why the input's BIP373 fields do not describe this group and path, if they do not. */
function foreignMusig(input: PsbtInput, key: PathKey, spend: SpendKeys): string | undefined {
  for (const [aggregate, participants] of input.musig2ParticipantPubkeys ?? []) {
    // The set first: only the group's own key sets are aggregated (and cached).
    const ours = isGroupAggregate(spend, participants) && equalBytes(spend.aggregate(participants).aggregateKey, aggregate);
    if (!ours) return 'its MuSig2 participant list is not one of this group’s key sets (keys, or their sorted order, differ)';
  }
  for (const [k] of [...(input.musig2PubNonce ?? []), ...(input.musig2PartialSig ?? [])]) {
    const sameLeaf =
      k.leafHash === undefined ? key.leafHash === undefined : key.leafHash !== undefined && equalBytes(k.leafHash, key.leafHash);
    if (!sameLeaf || key.ctx === undefined || !equalBytes(k.aggregatePubkey, key.ctx.aggregateKey)) {
      return 'it carries MuSig2 nonces or partial signatures for another key or leaf than the one this request signs';
    }
    if (!key.signers.some((s) => equalBytes(s, k.participantPubkey)))
      return 'it carries MuSig2 data from a key that does not sign this path';
  }
  return undefined;
}

/** Whether `participants`, as listed, are the sorted keys of the key path or of one of the group's leaves. */
function isGroupAggregate(spend: SpendKeys, participants: readonly Uint8Array[]): boolean {
  const listed = participants.map((p) => bytesToHex(p)).join(',');
  const sets = [spend.outputs.group.publicKeys.map((k) => bytesToHex(k)), ...spend.at([]).leaves.map((leaf) => leaf.signers)];
  return sets.some((set) => set.join(',') === listed);
}

function classifyInput(tx: Transaction, index: number, spend: SpendKeys, path: SpendPath, options: ClassifyOptions): PathInputClass {
  const spent = spentOutputRefusal(tx, index);
  if (spent) return spent;
  const input = tx.getInput(index);
  const utxo = input.witnessUtxo as NonNullable<PsbtInput['witnessUtxo']>;
  const output = spend.match(utxo.script.subarray(2), input.tapBip32Derivation ?? []);
  if (!output) {
    return refused(index, 'not-ours', "this input spends a taproot output that is neither this group's nor a verified derivation of it");
  }
  const metadata = metadataRefusal(index, input, output, spend);
  if (metadata) return metadata;
  const key = spend.key(output.path, path);
  const leaf = key.leaf;
  if (leaf?.kind === 'recovery' && !satisfiesOlder(tx.version, input.sequence ?? 0xffff_ffff, leaf.olderBlocks)) {
    return refused(
      index,
      'timelock-not-met',
      `the recovery leaf needs nSequence of at least ${leaf.olderBlocks} blocks (BIP68, transaction version 2 or more); this input has ${input.sequence ?? 0xffff_ffff} in a version ${tx.version} transaction`,
    );
  }
  const signatures = signaturesRefusal(index, input, key);
  if (signatures) return signatures;
  const sighashType = input.sighashType ?? SIGHASH_DEFAULT;
  const sighash = sighashRefusal(index, sighashType, options);
  if (sighash) return sighash;
  const foreign = foreignMusig(input, key, spend);
  if (foreign) return refused(index, 'foreign-musig-fields', foreign);
  return { index, status: 'ours', key, sighashType, amount: utxo.amount };
}

/** Every input of the PSBT, in order: the group's to spend along `path`, or refused with a reason. */
export function classifyPathInputs(
  imported: ImportedPsbt,
  spend: SpendKeys,
  path: SpendPath,
  options: ClassifyOptions = {},
): PathInputClass[] {
  const out: PathInputClass[] = [];
  for (let index = 0; index < imported.tx.inputsLength; index++) out.push(classifyInput(imported.tx, index, spend, path, options));
  return out;
}
