/**
 * BIP174 finalizer and extractor for a PSBT every input of which is the group's, spent along one of
 * its paths with one signature: the final witness of each input is that signature on the key path
 * (BIP341), or the signature, the leaf script and its control block on a leaf (BIP341/BIP342), so
 * finalizing is writing it, without @scure/btc-signer's per-update re-validation of every field
 * of the input (a taproot tweak, a point multiplication, per input per update: about 4 ms an input
 * for signatures, finalize and export, test/bench/psbt.bench.ts). Every signature is verified here
 * first under its input's key (the output key, or the key in the leaf), against the message the plan computed from the PSBT (a
 * signature the engine has just verified on those very bytes is not verified twice: verify.ts).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes } from '@noble/hashes/utils.js';
import { base64 } from '@scure/base';
import { RawTx, RawWitness } from '@scure/btc-signer/script.js';
import type { Transaction } from '@scure/btc-signer';
import { CosignerError } from '../errors.ts';
import { verifySignature } from '../musig/verify.ts';
import { readPsbtMaps, writePsbtMaps, type PsbtEntry } from './psbt-maps.ts';
import { SIGHASH_DEFAULT } from './psbt-sighash.ts';
import { existingSignature, type FinalTransaction, type PlannedInput } from './psbt-signing.ts';

/** What finalizing needs of a plan: its inputs (a session's plan, or a local recovery signature's). */
export type FinalizablePlan = {
  readonly inputs: readonly Pick<PlannedInput, 'index' | 'message' | 'verifyKey' | 'leaf' | 'sighashType' | 'signed'>[];
};

/** Input key types a BIP174 finalizer keeps: the UTXOs, the final scripts, PSBTv2's outpoint,
 *  sequence and lock-time requirements. Types BIP174/BIP371/BIP373 define besides are cleared, and
 *  so are proprietary ones (0xfc); types no BIP defines are kept, as @scure/btc-signer keeps them.
 *  BIP373's last input type is PSBT_IN_MUSIG2_PARTIAL_SIG (0x1c): a finalized input that kept its
 *  partial signatures would tell every reader a MuSig2 session is still open on it. */
const KEPT = new Set([0x00, 0x01, 0x07, 0x08, 0x0e, 0x0f, 0x10, 0x11, 0x12]);
const DEFINED_UP_TO = 0x1c;
const PROPRIETARY = 0xfc;
const FINAL_SCRIPTWITNESS = 0x08;

function keptInFinal(entry: PsbtEntry): boolean {
  return KEPT.has(entry.keyType) || (entry.keyType > DEFINED_UP_TO && entry.keyType !== PROPRIETARY);
}

/** Each input's final signature: ours, verified; or the one it carried already (checked by the plan). */
function verified(tx: Transaction, plan: FinalizablePlan, signatures: readonly Uint8Array[]): Uint8Array[] {
  if (!Array.isArray(signatures) || signatures.length !== plan.inputs.length) {
    throw new CosignerError('INVALID_INPUT', 'expected one signature per input', { expected: plan.inputs.length });
  }
  return plan.inputs.map((input, i) => {
    const signature = signatures[i] as Uint8Array;
    if (!(signature instanceof Uint8Array) || !verifySignature(signature, input.message, input.verifyKey)) {
      const key = input.leaf ? 'the key in its leaf' : 'its output key';
      throw new CosignerError('SIGNATURE_INVALID', `input ${input.index}: the signature does not verify under ${key}`, {
        input: input.index,
      });
    }
    if (input.signed) return existingSignature(tx, input.index, input.verifyKey, input.leaf) as Uint8Array;
    return input.sighashType === SIGHASH_DEFAULT ? signature : concatBytes(signature, Uint8Array.of(input.sighashType));
  });
}

/**
 * The finalized PSBT and the transaction, from the PSBT as imported (`psbt`, whose engine view is
 * `tx`) and one aggregate signature per planned input, in plan order. Every input of the PSBT must be
 * planned (a plan refuses any other PSBT).
 */
export function finalizeKeyPath(
  psbt: Uint8Array,
  tx: Transaction,
  plan: FinalizablePlan,
  signatures: readonly Uint8Array[],
): FinalTransaction {
  if (plan.inputs.length !== tx.inputsLength || plan.inputs.some((input, i) => input.index !== i)) {
    throw new CosignerError('INVALID_INPUT', 'every input of the PSBT is finalized at once, in order');
  }
  const witnesses = verified(tx, plan, signatures).map((signature, i) => {
    const leaf = (plan.inputs[i] as FinalizablePlan['inputs'][number]).leaf;
    return leaf ? [signature, leaf.script, leaf.controlBlock] : [signature];
  });
  const unsigned = tx.unsignedTx;
  const maps = readPsbtMaps(psbt);
  const inputs = maps.inputs.map((entries, i) =>
    [
      ...entries.filter(keptInFinal),
      { keyType: FINAL_SCRIPTWITNESS, keyData: new Uint8Array(0), value: RawWitness.encode(witnesses[i] as Uint8Array[]) },
    ].sort((a, b) => a.keyType - b.keyType),
  );
  const finalPsbt = writePsbtMaps({ ...maps, inputs });
  const rawTx = RawTx.encode({ ...RawTx.decode(unsigned), segwitFlag: true, witnesses });
  return {
    psbt: finalPsbt,
    psbtBase64: base64.encode(finalPsbt),
    rawTx,
    rawTxHex: bytesToHex(rawTx),
    txid: bytesToHex(sha256(sha256(unsigned)).reverse()),
  };
}
