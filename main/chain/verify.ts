/**
 * What can be checked of a chain server's answers without block headers: a transaction's bytes hash
 * to its txid, so once the hex is checked against the txid, the JSON's outputs (scripts, values) and
 * spent outpoints are checked against the hex. A server that reports a wrong amount for one of our
 * outputs is caught here; one that hides or invents transactions is not (esplora.ts says why that
 * costs no coins).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { RawTx } from '@scure/btc-signer';
import { CosignerError } from '../errors.ts';
import type { EsploraTx } from './esplora.ts';

export interface DecodedTx {
  readonly txid: string;
  /** Spent outpoints, txids in display order. */
  readonly inputs: readonly { readonly txid: string; readonly vout: number }[];
  readonly outputs: readonly { readonly script: string; readonly value: number }[];
}

function displayHex(internal: Uint8Array): string {
  return bytesToHex(Uint8Array.from(internal).reverse());
}

/** Decodes a network-serialized transaction; its txid is the double SHA-256 of it without witnesses. */
export function decodeTxHex(txHex: string): DecodedTx {
  let tx: ReturnType<typeof RawTx.decode>;
  try {
    tx = RawTx.decode(hexToBytes(txHex));
  } catch (e) {
    throw new CosignerError('INVALID_INPUT', 'not a transaction', {}, { cause: e });
  }
  const stripped = RawTx.encode({ ...tx, segwitFlag: false, witnesses: undefined });
  return {
    txid: displayHex(sha256(sha256(stripped))),
    // RawTx already reverses an input's txid to display order.
    inputs: tx.inputs.map((i) => ({ txid: bytesToHex(i.txid), vout: i.index })),
    outputs: tx.outputs.map((o) => ({ script: bytesToHex(o.script), value: Number(o.amount) })),
  };
}

export function txidOfHex(txHex: string): string {
  if (!/^(?:[0-9a-f]{2})+$/.test(txHex)) throw new CosignerError('INVALID_INPUT', 'a transaction in lower-case hex');
  return decodeTxHex(txHex).txid;
}

function lie(txid: string, what: string): CosignerError {
  return new CosignerError('CHAIN_INVALID_RESPONSE', `the chain server's description of ${txid} contradicts the transaction: ${what}`, {
    txid,
  });
}

/**
 * The transaction `txHex` is `json.txid`, and the JSON's inputs and outputs are the transaction's:
 * after this, a value or script read from `json.vout` is what the network commits to.
 */
export function checkTxAgainstHex(json: EsploraTx, txHex: string): DecodedTx {
  let decoded: DecodedTx;
  try {
    decoded = decodeTxHex(txHex);
  } catch {
    throw lie(json.txid, 'its hex is not a transaction');
  }
  if (decoded.txid !== json.txid) throw lie(json.txid, `its hex hashes to ${decoded.txid}`);
  checkTxJson(json, decoded);
  return decoded;
}

/** The JSON's outputs (scripts, values) and spent outpoints are those of the checked transaction. */
export function checkTxJson(json: EsploraTx, decoded: DecodedTx): void {
  if (decoded.outputs.length !== json.vout.length) throw lie(json.txid, 'another number of outputs');
  decoded.outputs.forEach((out, i) => {
    const claimed = json.vout[i]!;
    if (claimed.scriptpubkey !== out.script) throw lie(json.txid, `output ${i} has another script`);
    if (claimed.value !== out.value) throw lie(json.txid, `output ${i} is ${out.value} sat, not ${claimed.value}`);
  });
  if (decoded.inputs.length !== json.vin.length) throw lie(json.txid, 'another number of inputs');
  decoded.inputs.forEach((input, i) => {
    const claimed = json.vin[i]!;
    if (claimed.txid !== input.txid || claimed.vout !== input.vout) throw lie(json.txid, `input ${i} spends another outpoint`);
  });
}
