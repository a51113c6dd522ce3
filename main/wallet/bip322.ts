/**
 * BIP322 "simple" message signatures for a P2TR key-path address (the group's address). What a
 * message session signs is the BIP341 key-path signature hash of BIP322's virtual `to_sign`
 * transaction, never the message bytes. That hash commits to to_sign's only input (to_spend:0, 0 sat,
 * which can never be confirmed) and only output (0 sat, OP_RETURN), so the signature moves no coin,
 * and a message request cannot be turned into a spend (docs/PROTOCOL.md §Message payload).
 *
 * The transactions are encoded with @scure/btc-signer and hashed with the same BIP341 code that signs
 * PSBT inputs (psbt-sighash.ts); checked against the BIP322 vectors, bitcoinjs-lib and bip322-js in
 * test/unit/wallet/bip322.test.ts.
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import { base64 } from '@scure/base';
import { RawTx, RawWitness, Script, Transaction } from '@scure/btc-signer';
import { sha256x2 } from '@scure/btc-signer/utils.js';
import { CosignerError } from '../errors.ts';
import { taprootSighash, SIGHASH_DEFAULT } from './psbt-sighash.ts';

export const BIP322_TAG = 'BIP0322-signed-message';

/** taggedHash("BIP0322-signed-message", message), the message as given (no length prefix). */
export function bip322MessageHash(message: Uint8Array): Uint8Array {
  return schnorr.utils.taggedHash(BIP322_TAG, message);
}

/**
 * `to_spend`, serialized: version 0, lock time 0; one input spending 00..00:0xFFFFFFFF with sequence 0
 * and scriptSig `OP_0 PUSH32 message_hash`; one output of 0 sat paying to `scriptPubKey`. Only its
 * txid is used; it is encoded by scure's raw codec rather than built as a Transaction, which would
 * check the output key is a point (lift_x) for every message: most of the cost of a digest.
 */
export function bip322ToSpend(message: Uint8Array, scriptPubKey: Uint8Array): Uint8Array {
  return RawTx.encode({
    version: 0,
    segwitFlag: false,
    inputs: [
      { txid: new Uint8Array(32), index: 0xffffffff, finalScriptSig: Script.encode(['OP_0', bip322MessageHash(message)]), sequence: 0 },
    ],
    outputs: [{ amount: 0n, script: scriptPubKey }],
    witnesses: [],
    lockTime: 0,
  });
}

/**
 * `to_sign`: version 0, lock time 0; one input spending to_spend:0 with sequence 0; one output of
 * 0 sat, `OP_RETURN`. The output it spends (0 sat, `scriptPubKey`) is given to the sighash directly.
 */
export function bip322ToSign(message: Uint8Array, scriptPubKey: Uint8Array): Transaction {
  // OP_RETURN is not an output type scure builds by itself.
  const tx = new Transaction({ version: 0, lockTime: 0, allowUnknownOutputs: true });
  // A txid is written in display order, the reverse of its hash's bytes.
  tx.addInput({ txid: sha256x2(bip322ToSpend(message, scriptPubKey)).reverse(), index: 0, sequence: 0 });
  tx.addOutput({ script: Script.encode(['RETURN']), amount: 0n });
  return tx;
}

/** The P2TR scriptPubKey of an x-only output key: OP_1 PUSH32 key. (The key is the group's, computed
 *  by key aggregation, so it is a point; OutScript.encode would check it again, at a cost.) */
export function taprootScriptPubKey(outputKey: Uint8Array): Uint8Array {
  if (outputKey.length !== 32) throw new CosignerError('INVALID_INPUT', 'an x-only output key is 32 bytes');
  return Script.encode(['OP_1', outputKey]);
}

/**
 * What a BIP322 simple signature for the P2TR address of `outputKey` signs: the BIP341 signature
 * hash (SIGHASH_DEFAULT, no annex) of to_sign's input, by the key path, or by the script path of the
 * leaf whose hash is `leafHash` (BIP342). It depends on the output key, the leaf and the message
 * only, not on the network an address is written for.
 */
export function bip322Digest(message: Uint8Array, outputKey: Uint8Array, leafHash?: Uint8Array): Uint8Array {
  const scriptPubKey = taprootScriptPubKey(outputKey);
  return taprootSighash(bip322ToSign(message, scriptPubKey), 0, SIGHASH_DEFAULT, { scripts: [scriptPubKey], amounts: [0n] }, leafHash);
}

/** The leaf a script-path BIP322 signature executes: its script and control block end the witness. */
export interface WitnessLeaf {
  readonly script: Uint8Array;
  readonly controlBlock: Uint8Array;
}

/** The BIP322 simple signature: base64 of to_sign's serialized witness: one 64-byte SIGHASH_DEFAULT
 *  signature (key path), or the signature, the leaf script and its control block (script path). */
export function bip322Signature(schnorrSignature: Uint8Array, leaf?: WitnessLeaf): string {
  if (schnorrSignature.length !== 64) throw new CosignerError('INVALID_INPUT', 'a signature with SIGHASH_DEFAULT is 64 bytes');
  const witness = leaf === undefined ? [schnorrSignature] : [schnorrSignature, leaf.script, leaf.controlBlock];
  return base64.encode(RawWitness.encode(witness));
}
