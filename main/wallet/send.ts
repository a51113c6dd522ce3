/**
 * A spend of the group's coins as a PSBT for the co-signing request: coins from the last wallet
 * scan (main/chain/watcher.ts), recipients' addresses checked for the group's network, a fee rate in
 * sat/vB, RBF signalled, change to the group's next unused change address (`1/i`).
 *
 * Every input carries its witness UTXO (script and amount), taproot internal key and BIP32
 * derivation, and the change output its derivation and internal key: what each co-signer's review
 * (psbt-review.ts) needs to recognise the inputs as the group's and the change as change. The coins'
 * amounts come from the chain server, which we do not trust; it cannot make the group overpay,
 * because BIP341's signature hash commits to every spent amount and script: signatures made over a
 * wrong amount are invalid on the network, so the lie ends in a refused broadcast, never in a
 * larger fee than the one every co-signer reviewed.
 *
 * Coin selection is @scure/btc-signer's selectUTXO ('default': an exact match without change
 * first, else the biggest coins first), an audited selector whose weight estimate for a taproot
 * key-path input is the one our review computes.
 */
import { base64 } from '@scure/base';
import { Address, OutScript, Transaction } from '@scure/btc-signer';
import { selectUTXO } from '@scure/btc-signer/utxo.js';
import type { BitcoinNetwork, WalletState } from '../../preload/contract.ts';
import { CosignerError } from '../errors.ts';
import { CHANGE_BRANCH, RECEIVE_BRANCH } from './bip328.ts';
import type { GroupKeys } from './group-keys.ts';
import { taprootAddress } from './group.ts';
import { BTC_NETWORKS } from './networks.ts';
import { importPsbt, MAX_MONEY, MAX_PSBT_INPUTS, MAX_PSBT_OUTPUTS } from './psbt-import.ts';
import { RBF_SEQUENCE, spenderOf, type Spender } from './spender.ts';

export { RBF_SEQUENCE };

/** Bitcoin Core's default relay floor, and a ceiling far above any fee the network has needed. */
export const MIN_FEE_RATE = 1;
export const MAX_FEE_RATE = 10_000;
/** Bitcoin Core's dust relay fee: 3 sat/vB (DUST_RELAY_TX_FEE, 3000 sat/kvB). */
const DUST_RELAY_FEE_RATE = 3;
/** The bytes of an input spending a witness output, as GetDustThreshold counts them (32+4+1+107/4+4). */
const WITNESS_SPEND_BYTES = 67;
/** The bytes of an input spending a legacy output (32+4+1+107+4). */
const LEGACY_SPEND_BYTES = 148;
/** A taproot output (8 + 1 + 34 bytes) with its witness spend, at the dust relay fee: 330 sat. */
const TAPROOT_DUST_BYTES = 43 + WITNESS_SPEND_BYTES;

export interface Recipient {
  readonly address: string;
  /** Satoshis; ignored (and may be absent) when sending everything. */
  readonly amount?: number;
}

export interface SendRequest {
  readonly recipients: readonly Recipient[];
  /** Satoshis per virtual byte, a whole number (selectUTXO counts in whole sat/vB). */
  readonly feeRate: number;
  /** Spend every coin to the one recipient, the fee taken from it; no change. */
  readonly sendAll?: boolean;
}

export interface BuiltSend {
  readonly psbtBase64: string;
  /** Inputs minus outputs, satoshis. */
  readonly fee: number;
  /** Of the signed transaction (every input with a 64-byte key-path signature). */
  readonly vsize: number;
  /** The change output, or null when there is none (send all, or change below dust given to the fee). */
  readonly change: { readonly address: string; readonly index: number; readonly amount: number } | null;
  /** What each recipient gets (for send all: everything less the fee). */
  readonly amounts: number[];
}

/**
 * The smallest amount Bitcoin Core relays to this script (policy.cpp GetDustThreshold at 3 sat/vB):
 * 330 sat to taproot, 294 to P2WPKH, 546 to P2PKH.
 */
export function dustThreshold(script: Uint8Array): number {
  const outputBytes = 8 + 1 + script.length;
  const isWitness =
    script.length >= 4 &&
    script.length <= 42 &&
    (script[0] === 0 || (script[0]! >= 0x51 && script[0]! <= 0x60)) &&
    script[1] === script.length - 2;
  return (outputBytes + (isWitness ? WITNESS_SPEND_BYTES : LEGACY_SPEND_BYTES)) * DUST_RELAY_FEE_RATE;
}

/** The output script of an address of `network`; INVALID_INPUT in words for anything else. */
export function recipientScript(address: string, network: BitcoinNetwork): Uint8Array {
  const text = address.trim();
  try {
    return OutScript.encode(Address(BTC_NETWORKS[network]).decode(text));
  } catch {
    throw new CosignerError('INVALID_INPUT', `"${text.slice(0, 100)}" is not a ${network} address`, { network });
  }
}

/** The confirmation target, in blocks, of an estimated fee: about half an hour. */
export const ESTIMATE_TARGET_BLOCKS = 3;

/**
 * The whole sat/vB (rounded up) of the server's estimate for ESTIMATE_TARGET_BLOCKS, or for the
 * nearest faster target it gives, or its slowest target when all are slower; kept within
 * MIN_FEE_RATE..MAX_FEE_RATE. The estimate is the server's word: the fee it leads to is shown to
 * every co-signer before anyone signs.
 */
export function feeRateFromEstimates(estimates: Readonly<Record<string, number>>): number {
  const targets = Object.keys(estimates)
    .map(Number)
    .sort((a, b) => a - b);
  if (targets.length === 0) throw new CosignerError('CHAIN_INVALID_RESPONSE', 'the chain server gave no fee estimate: type a fee rate');
  const faster = targets.filter((t) => t <= ESTIMATE_TARGET_BLOCKS);
  const target = faster.length > 0 ? faster[faster.length - 1]! : targets[0]!;
  return Math.min(MAX_FEE_RATE, Math.max(MIN_FEE_RATE, Math.ceil(estimates[String(target)]!)));
}

function checkFeeRate(feeRate: number): bigint {
  if (!Number.isInteger(feeRate) || feeRate < MIN_FEE_RATE || feeRate > MAX_FEE_RATE) {
    throw new CosignerError('INVALID_INPUT', `the fee rate is a whole number of sat/vB from ${MIN_FEE_RATE} to ${MAX_FEE_RATE}`, {
      feeRate,
    });
  }
  return BigInt(feeRate);
}

const branchNumber = { receive: RECEIVE_BRANCH, change: CHANGE_BRANCH } as const;

/**
 * The coins a spend may use: confirmed ones, and the group's own unconfirmed change (its parent is
 * a spend the group signed; someone else's unconfirmed payment could be replaced under us). A spend
 * whose inputs carry a relative lock (the recovery leaf's older(N)) may use only coins N blocks deep
 * by the next block: any other would make a transaction no node accepts until then.
 */
function spendable(state: WalletState, spender: Spender): WalletState['utxos'] {
  const lock = spender.sequence < RBF_SEQUENCE ? spender.sequence : 0;
  if (lock === 0) return state.utxos.filter((u) => u.confirmed || u.branch === 'change');
  return state.utxos.filter((u) => u.height !== null && state.tipHeight + 1 - u.height >= lock);
}

export type InputUpdate = Parameters<Transaction['addInput']>[0];

export function inputOf(
  keys: GroupKeys | Spender,
  network: BitcoinNetwork,
  utxo: Pick<WalletState['utxos'][number], 'txid' | 'vout' | 'value' | 'address' | 'branch' | 'index'>,
): InputUpdate {
  const spender = spenderOf(keys);
  const path = [branchNumber[utxo.branch], utxo.index];
  const outputKey = spender.outputKey(path);
  // The scan stored the address; the key is derived again, so a corrupted saved state cannot point an
  // input at a key the PSBT then claims wrongly.
  if (taprootAddress(outputKey, network) !== utxo.address) {
    throw new CosignerError('INVALID_INPUT', 'a coin of the saved wallet state is not at its address: refresh the wallet', {
      txid: utxo.txid,
      vout: utxo.vout,
    });
  }
  return {
    txid: utxo.txid,
    index: utxo.vout,
    sequence: spender.sequence,
    witnessUtxo: { script: OutScript.encode({ type: 'tr', pubkey: outputKey }), amount: BigInt(utxo.value) },
    ...spender.inputFields(path),
  };
}

/** The first change address after the last used one (the scan keeps `gapLimit` unused ones past it). */
function nextChange(state: WalletState): number {
  return state.change.reduce((last, a) => (a.used ? a.index : last), -1) + 1;
}

function sats(value: bigint): string {
  return `${value.toLocaleString('en-US')} sat`;
}

/** Builds the spend; INVALID_INPUT, DUST_OUTPUT or INSUFFICIENT_FUNDS, each in words, when it cannot be. */
export function buildSend(state: WalletState, keys: GroupKeys | Spender, network: BitcoinNetwork, request: SendRequest): BuiltSend {
  const spender = spenderOf(keys);
  const feePerByte = checkFeeRate(request.feeRate);
  const { recipients } = request;
  if (recipients.length === 0) throw new CosignerError('INVALID_INPUT', 'a payment needs a recipient');
  if (recipients.length > MAX_PSBT_OUTPUTS - 1) throw new CosignerError('INVALID_INPUT', `at most ${MAX_PSBT_OUTPUTS - 1} recipients`);
  if (request.sendAll && recipients.length !== 1)
    throw new CosignerError('INVALID_INPUT', 'sending everything goes to exactly one recipient');
  const scripts = recipients.map((r) => recipientScript(r.address, network));
  const coins = spendable(state, spender);
  if (coins.length === 0) {
    const why =
      spender.sequence < RBF_SEQUENCE
        ? `no coin of the group is ${spender.sequence} blocks old yet, as the recovery path needs`
        : 'the group has no spendable coins (refresh the wallet, or wait for a confirmation)';
    throw new CosignerError('INSUFFICIENT_FUNDS', why);
  }
  const changeIndex = nextChange(state);
  const changeKey = { outputKey: spender.outputKey([CHANGE_BRANCH, changeIndex]) };
  const changeAddress = taprootAddress(changeKey.outputKey, network);
  const candidates = coins.map((u) => inputOf(spender, network, u));

  let inputs: readonly InputUpdate[];
  let outputs: SpendOutput[];
  if (request.sendAll) {
    if (coins.length > MAX_PSBT_INPUTS)
      throw new CosignerError('INVALID_INPUT', `the group has more than ${MAX_PSBT_INPUTS} coins: send part of them first`);
    const total = coins.reduce((sum, u) => sum + BigInt(u.value), 0n);
    // The amount's 8 bytes do not change the size: measure with the total, then take the fee off.
    const vsize = BigInt(
      finishSpend(candidates, [{ script: scripts[0]!, amount: total, change: false }], spender, network, {
        key: changeKey,
        index: changeIndex,
      }).vsize,
    );
    const fee = vsize * feePerByte;
    const amount = total - fee;
    const dust = BigInt(dustThreshold(scripts[0]!));
    if (amount < dust) {
      throw new CosignerError(
        'INSUFFICIENT_FUNDS',
        `the group's ${sats(total)} less the fee of ${sats(fee)} leaves less than the ${sats(dust)} an output needs`,
        {
          total: Number(total),
          fee: Number(fee),
        },
      );
    }
    inputs = candidates;
    outputs = [{ script: scripts[0]!, amount, change: false }];
  } else {
    const wanted = recipients.map((r, i) => {
      const amount = r.amount;
      if (amount === undefined || !Number.isSafeInteger(amount) || amount <= 0 || BigInt(amount) > MAX_MONEY) {
        throw new CosignerError('INVALID_INPUT', `recipient ${i + 1} needs an amount in satoshis`, { recipient: i });
      }
      const dust = dustThreshold(scripts[i]!);
      if (amount < dust) {
        throw new CosignerError(
          'DUST_OUTPUT',
          `${sats(BigInt(amount))} to ${r.address.trim()} is below the ${sats(BigInt(dust))} the network relays to that address`,
          {
            recipient: i,
            dust,
          },
        );
      }
      return { script: scripts[i]!, amount: BigInt(amount) };
    });
    const selected = selectUTXO(candidates, wanted, 'default', {
      feePerByte,
      changeAddress,
      network: BTC_NETWORKS[network],
      // Change below taproot dust goes to the fee (Core's threshold for a taproot output).
      dust: BigInt(TAPROOT_DUST_BYTES),
      dustRelayFeeRate: BigInt(DUST_RELAY_FEE_RATE),
      createTx: false,
      bip69: true,
      allowUnknownOutputs: true,
    });
    if (!selected) {
      const have = coins.reduce((sum, u) => sum + BigInt(u.value), 0n);
      const want = wanted.reduce((sum, o) => sum + o.amount, 0n);
      throw new CosignerError(
        'INSUFFICIENT_FUNDS',
        `the group has ${sats(have)} to spend, not enough for ${sats(want)} and the fee at ${request.feeRate} sat/vB`,
        {
          have: Number(have),
          want: Number(want),
        },
      );
    }
    if (selected.inputs.length > MAX_PSBT_INPUTS)
      throw new CosignerError('INVALID_INPUT', `the payment needs more than ${MAX_PSBT_INPUTS} coins: send less`);
    // selectUTXO hands back the candidates it chose (normalized copies), in BIP69 order; the change
    // is the one output it names by address.
    inputs = selected.inputs;
    const changeScript = OutScript.encode({ type: 'tr', pubkey: changeKey.outputKey });
    outputs = selected.outputs.map((o) =>
      'address' in o ? { script: changeScript, amount: o.amount, change: true } : { script: o.script, amount: o.amount, change: false },
    );
  }

  return finishSpend(inputs, outputs, spender, network, { key: changeKey, index: changeIndex });
}

/** An output of a spend being built; `change` pays the group's change key given to finishSpend. */
export interface SpendOutput {
  readonly script: Uint8Array;
  readonly amount: bigint;
  readonly change: boolean;
}

/**
 * The PSBT of `inputs` and `outputs`, checked by our own review as every co-signer will run it: a
 * PSBT it would refuse, or whose change it would not show as change, is a bug here, not a request.
 */
export function finishSpend(
  inputs: readonly InputUpdate[],
  outputs: readonly SpendOutput[],
  keys: GroupKeys | Spender,
  network: BitcoinNetwork,
  change: { key: { readonly outputKey: Uint8Array }; index: number },
): BuiltSend {
  const spender = spenderOf(keys);
  const psbt = assemble(inputs, outputs, spender, change.index).toPSBT(0);
  const review = spender.review(importPsbt(psbt), network);
  const changeOut = outputs.findIndex((o) => o.change);
  if (!review.signable || review.fee === null || (changeOut >= 0 && !review.outputs[changeOut]!.isChange)) {
    throw new CosignerError('INTERNAL', 'the built spend does not pass the group review');
  }
  return {
    psbtBase64: base64.encode(psbt),
    fee: review.fee,
    vsize: review.vsize,
    change:
      changeOut >= 0
        ? { address: taprootAddress(change.key.outputKey, network), index: change.index, amount: Number(outputs[changeOut]!.amount) }
        : null,
    amounts: outputs.filter((o) => !o.change).map((o) => Number(o.amount)),
  };
}

function assemble(inputs: readonly InputUpdate[], outputs: readonly SpendOutput[], spender: Spender, changeIndex: number): Transaction {
  // Version 2 (the default) whatever the path: BIP68's relative locks, which a recovery leaf needs, apply only from it.
  const tx = new Transaction({ allowUnknownOutputs: true, version: 2 });
  for (const input of inputs) tx.addInput({ ...input, sequence: spender.sequence });
  for (const output of outputs) {
    tx.addOutput(
      output.change
        ? { script: output.script, amount: output.amount, ...spender.changeFields([CHANGE_BRANCH, changeIndex]) }
        : { script: output.script, amount: output.amount },
    );
  }
  return tx;
}
