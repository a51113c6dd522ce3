/**
 * What the approval screen shows, computed from the PSBT alone (never from what its creator says):
 * every input and output, which outputs pay back to the group, the fee and fee rate, the network.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { Address, OutScript } from '@scure/btc-signer';
import type { BitcoinNetwork } from '../../preload/contract.ts';
import { branchOf } from './bip328.ts';
import type { GroupKeys, TapDerivation } from './group-keys.ts';
import { taprootAddress } from './group.ts';
import { BTC_NETWORKS } from './networks.ts';
import { classifyInputs, feeOf, MAX_MONEY, type ClassifyOptions, type ImportedPsbt, type InputRefusalCode } from './psbt-import.ts';
import { classifyPathInputs } from './psbt-path-import.ts';
import type { SpendKeys } from './spend-keys.ts';
import type { SpendPath } from './spend-path.ts';
import { approvalDigest, SIGHASH_DEFAULT, sighashName } from './psbt-sighash.ts';

export interface ReviewInput {
  readonly index: number;
  /** Outpoint: txid in display order, and output index. */
  readonly txid: string;
  readonly vout: number;
  /** Satoshis; null when the PSBT does not say (the input is then refused). */
  readonly amount: number | null;
  readonly address: string | null;
  /** BIP328 path below the group key (empty for the group's own address); null when not ours. */
  readonly path: readonly number[] | null;
  readonly sighash: string;
  readonly refusal: { readonly code: InputRefusalCode; readonly reason: string } | null;
}

export interface ReviewOutput {
  readonly index: number;
  readonly amount: number;
  /** Address on the reviewed network, or null for a script with none (see `kind`). */
  readonly address: string | null;
  readonly script: string;
  readonly kind: 'address' | 'op_return' | 'unknown';
  /** Change: pays a BIP328 child on the group's change branch (`1/i`) the PSBT names and that was
   *  re-derived. Not the group's own address, a receive address (`0/i`) or any other path (see branchOf). */
  readonly isChange: boolean;
  /** The path below the group key when the output pays the group at all (change or not; [] for its
   *  own address); null when it pays someone else. */
  readonly changePath: readonly number[] | null;
}

export type ReviewWarning = 'non-default-sighash' | 'high-fee';

export interface PsbtReview {
  readonly network: BitcoinNetwork;
  readonly psbtVersion: 0 | 2;
  readonly txVersion: number;
  readonly lockTime: number;
  readonly inputs: readonly ReviewInput[];
  readonly outputs: readonly ReviewOutput[];
  /** Sums in satoshis; input sums and the fee are null when an input's amount is unknown. */
  readonly totalIn: number | null;
  readonly totalOut: number;
  /** Paid to others: outputs that do not pay the group. */
  readonly sent: number;
  readonly fee: number | null;
  /** Of the signed transaction: every input with a key-path witness (64 bytes, 65 with a sighash byte). */
  readonly weight: number;
  readonly vsize: number;
  /** Satoshis per virtual byte, two decimals. */
  readonly feeRate: number | null;
  /** Every input is the group's and may be signed. */
  readonly signable: boolean;
  /** approvalDigest of what is shown (hex); null when an input's UTXO is missing. */
  readonly digest: string | null;
  readonly warnings: readonly ReviewWarning[];
}

/** Above this rate a fee is flagged: far beyond what the network has ever needed. */
const HIGH_FEE_RATE = 1000;

function outputView(script: Uint8Array, network: BitcoinNetwork): Pick<ReviewOutput, 'address' | 'kind'> {
  if (script[0] === 0x6a) return { address: null, kind: 'op_return' };
  try {
    return { address: Address(BTC_NETWORKS[network]).encode(OutScript.decode(script)), kind: 'address' };
  } catch {
    return { address: null, kind: 'unknown' };
  }
}

/** An input as classified for a review: the group's (its output, path and witness size), or refused. */
type Classified =
  | {
      readonly index: number;
      readonly status: 'ours';
      readonly outputKey: Uint8Array;
      readonly path: readonly number[];
      readonly leaf?: { readonly script: Uint8Array; readonly controlBlock: Uint8Array };
    }
  | { readonly index: number; readonly status: 'refused'; readonly code: InputRefusalCode; readonly reason: string };

/** The review of a PSBT for a key-path-only n-of-n group (GroupKeys). */
export function reviewPsbt(imported: ImportedPsbt, keys: GroupKeys, network: BitcoinNetwork, options: ClassifyOptions = {}): PsbtReview {
  const classes = classifyInputs(imported, keys, options).map((c): Classified =>
    c.status === 'ours' ? { index: c.index, status: 'ours', outputKey: c.key.outputKey, path: c.key.path } : c,
  );
  return reviewOf(imported, network, classes, (script, claims) => keys.match(script, claims)?.path);
}

/**
 * The review of a PSBT for a group with a policy, spent along `path`: as reviewPsbt, with each
 * input's witness (and so the size and fee rate) that of the path, and change re-derived among the
 * group's outputs under its policy.
 */
export function reviewPathPsbt(
  imported: ImportedPsbt,
  spend: SpendKeys,
  path: SpendPath,
  network: BitcoinNetwork,
  options: ClassifyOptions = {},
): PsbtReview {
  const classes = classifyPathInputs(imported, spend, path, options).map((c): Classified =>
    c.status === 'ours'
      ? {
          index: c.index,
          status: 'ours',
          outputKey: c.key.output.outputKey,
          path: c.key.output.path,
          ...(c.key.leaf ? { leaf: c.key.leaf } : {}),
        }
      : c,
  );
  return reviewOf(imported, network, classes, (script, claims) => spend.match(script, claims)?.path);
}

/** Bytes of a witness stack item with its length prefix (items here are below 253 bytes but a script may not be). */
function itemBytes(length: number): number {
  return (length < 0xfd ? 1 : 3) + length;
}

function reviewOf(
  imported: ImportedPsbt,
  network: BitcoinNetwork,
  classes: readonly Classified[],
  groupPathOf: (outputKey: Uint8Array, claims: readonly TapDerivation[]) => readonly number[] | undefined,
): PsbtReview {
  const { tx } = imported;
  const inputs: ReviewInput[] = classes.map((c) => {
    const input = tx.getInput(c.index);
    const utxo = input.witnessUtxo;
    return {
      index: c.index,
      txid: bytesToHex(input.txid as Uint8Array),
      vout: input.index as number,
      amount: utxo && utxo.amount <= MAX_MONEY ? Number(utxo.amount) : null,
      // An input of the group spends its derived output key: no need to decode (and lift) it again.
      address: c.status === 'ours' ? taprootAddress(c.outputKey, network) : utxo ? outputView(utxo.script, network).address : null,
      path: c.status === 'ours' ? [...c.path] : null,
      sighash: sighashName(input.sighashType ?? SIGHASH_DEFAULT),
      refusal: c.status === 'refused' ? { code: c.code, reason: c.reason } : null,
    };
  });
  const outputs: ReviewOutput[] = [];
  for (let index = 0; index < tx.outputsLength; index++) {
    const out = tx.getOutput(index);
    const script = out.script as Uint8Array;
    const isTaproot = script.length === 34 && script[0] === 0x51 && script[1] === 0x20;
    const changePath = isTaproot ? groupPathOf(script.subarray(2), out.tapBip32Derivation ?? []) : undefined;
    outputs.push({
      index,
      amount: Number(out.amount as bigint),
      ...outputView(script, network),
      script: bytesToHex(script),
      isChange: changePath !== undefined && branchOf(changePath) === 'change',
      changePath: changePath ? [...changePath] : null,
    });
  }
  const exactFee = feeOf(tx);
  const known = exactFee !== null;
  const totalOut = outputs.reduce((sum, o) => sum + o.amount, 0);
  const fee = exactFee === null ? null : Number(exactFee);
  const totalIn = fee === null ? null : totalOut + fee;
  const sighashTypes = classes.map((c) => tx.getInput(c.index).sighashType ?? SIGHASH_DEFAULT);
  // A key-path witness is one stack item: count (1) + length (1) + signature (64, or 65 with a sighash
  // byte); a leaf's adds the script and the control block, each with its length.
  const witnessBytes =
    2 +
    sighashTypes.reduce((sum, type, i) => {
      const c = classes[i] as Classified;
      const leaf = c.status === 'ours' ? c.leaf : undefined;
      const rest = leaf ? itemBytes(leaf.script.length) + itemBytes(leaf.controlBlock.length) : 0;
      return sum + 2 + (type === SIGHASH_DEFAULT ? 64 : 65) + rest;
    }, 0);
  const weight = 4 * tx.unsignedTx.length + witnessBytes;
  const vsize = Math.ceil(weight / 4);
  const feeRate = fee === null ? null : Math.round((fee * 100) / vsize) / 100;
  // What leaves the group: an output to the group that is not change is still the group's money.
  const sent = outputs.filter((o) => o.changePath === null).reduce((sum, o) => sum + o.amount, 0);
  const warnings: ReviewWarning[] = [];
  if (sighashTypes.some((type) => type !== SIGHASH_DEFAULT)) warnings.push('non-default-sighash');
  if (fee !== null && ((feeRate as number) > HIGH_FEE_RATE || (sent > 0 && fee > sent))) warnings.push('high-fee');
  return {
    network,
    psbtVersion: imported.version,
    txVersion: tx.version,
    lockTime: tx.lockTime,
    inputs,
    outputs,
    totalIn,
    totalOut,
    sent,
    fee,
    weight,
    vsize,
    feeRate,
    signable: classes.every((c) => c.status === 'ours'),
    digest: known ? bytesToHex(approvalDigest(tx, sighashTypes)) : null,
    warnings,
  };
}
