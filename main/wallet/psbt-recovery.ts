/**
 * The single-key recovery leaf, `and_v(v:pk(K),older(N))`, signed by this node alone: MuSig2 of one
 * key is not that key, so there is no session (docs/GROUPS.md §Spending). Every input must be the
 * group's output spent over that leaf, its nSequence meeting older(N) (psbt-path-import.ts refuses
 * it otherwise, 'timelock-not-met'); each gets a BIP340 signature of its BIP342 message under the
 * recovery key, and the PSBT is finalized with [signature, leaf script, control block].
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import { equalBytes } from '@noble/curves/utils.js';
import { CosignerError } from '../errors.ts';
import { publicKeyOf } from '../musig/index.ts';
import { finalizeKeyPath } from './psbt-finalize.ts';
import { feeOf, type ClassifyOptions, type ImportedPsbt } from './psbt-import.ts';
import { prevoutsOf, TaprootSighasher } from './psbt-sighash.ts';
import { pathInputs, type FinalTransaction } from './psbt-signing.ts';
import type { SpendKeys } from './spend-keys.ts';
import type { SpendPath } from './spend-path.ts';

/** The path of the group's recovery leaf when one key alone signs it; INVALID_INPUT otherwise. */
export function singleKeyRecovery(spend: SpendKeys): { path: SpendPath; key: Uint8Array; olderBlocks: number } {
  const leaves = spend.at([]).leaves;
  const leaf = leaves.findIndex((l) => l.kind === 'recovery');
  const recovery = leaves[leaf];
  if (recovery === undefined || recovery.kind !== 'recovery') throw new CosignerError('INVALID_INPUT', 'this group has no recovery path');
  if (recovery.signers.length !== 1) {
    throw new CosignerError('INVALID_INPUT', 'the recovery path of this group is a MuSig2 key set: its keys sign it in a session');
  }
  const path: SpendPath = { kind: 'leaf', leaf };
  return { path, key: spend.key([], path).signers[0] as Uint8Array, olderBlocks: recovery.olderBlocks };
}

/**
 * Signs every input of the PSBT over the group's single-key recovery leaf with `secretKey`, which must
 * be the recovery key, and finalizes it. `auxRandom` gives BIP340's 32 bytes of auxiliary randomness.
 * PSBT_REFUSED (nothing signed) when an input is not the group's along that leaf, or is before its timelock.
 */
export function signRecoveryPsbt(
  imported: ImportedPsbt,
  spend: SpendKeys,
  secretKey: Uint8Array,
  auxRandom: () => Uint8Array,
  options: ClassifyOptions = {},
): FinalTransaction {
  const recovery = singleKeyRecovery(spend);
  if (!equalBytes(publicKeyOf(secretKey), recovery.key)) {
    throw new CosignerError('INVALID_INPUT', "this node's signer key is not the group's recovery key");
  }
  const own = pathInputs(imported, spend, recovery.path, options);
  const { tx } = imported;
  feeOf(tx);
  const sighasher = new TaprootSighasher(tx, prevoutsOf(tx));
  const inputs = own.map((c) => {
    const leaf = c.key.leaf as NonNullable<typeof c.key.leaf>;
    return {
      index: c.index,
      message: sighasher.message(c.index, c.sighashType, leaf.leafHash),
      verifyKey: c.key.verifyKey,
      leaf,
      sighashType: c.sighashType,
      signed: false,
    };
  });
  // finalizeKeyPath verifies each 64-byte signature and appends a non-default sighash byte itself.
  const signatures = inputs.map((input) => schnorr.sign(input.message, secretKey, auxRandom()));
  return finalizeKeyPath(imported.bytes, tx, { inputs }, signatures);
}
