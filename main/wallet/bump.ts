/**
 * A replacement (BIP125) of one of the group's stuck, unconfirmed spends at a higher fee rate, as a
 * new PSBT for the co-signing request: the same inputs (the group's coins), the same payments, and
 * the higher fee taken from the change. BIP125 rule 4 (Bitcoin Core's policy): the replacement pays
 * at least the original's fee plus the incremental relay fee (1 sat/vB) for its own size.
 *
 * Only the change pays: a spend without change, or with too little, is refused in words (adding
 * coins would need more inputs, each a new signature of every co-signer: a fresh Send does that).
 */
import type { BitcoinNetwork, WalletState } from '../../preload/contract.ts';
import type { DecodedTx } from '../chain/verify.ts';
import { CosignerError } from '../errors.ts';
import { CHANGE_BRANCH, RECEIVE_BRANCH } from './bip328.ts';
import type { GroupKeys } from './group-keys.ts';
import { spenderOf, type Spender } from './spender.ts';
import { dustThreshold, finishSpend, inputOf, MAX_FEE_RATE, MIN_FEE_RATE, type BuiltSend, type SpendOutput } from './send.ts';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { OutScript } from '@scure/btc-signer';

/** Bitcoin Core's default incremental relay fee, sat/vB (DEFAULT_INCREMENTAL_RELAY_FEE 1000 sat/kvB). */
const INCREMENTAL_RELAY_FEE_RATE = 1n;

interface Ours {
  readonly branch: 'receive' | 'change';
  readonly index: number;
  readonly address: string;
}

/** The group's scanned addresses by output script (hex). */
function addressesByScript(state: WalletState, keys: Spender): Map<string, Ours> {
  const map = new Map<string, Ours>();
  const add = (branch: Ours['branch'], list: WalletState['receive']) => {
    for (const a of list) {
      const outputKey = keys.outputKey([branch === 'receive' ? RECEIVE_BRANCH : CHANGE_BRANCH, a.index]);
      const script = OutScript.encode({ type: 'tr', pubkey: outputKey });
      map.set(bytesToHex(script), { branch, index: a.index, address: a.address });
    }
  };
  add('receive', state.receive);
  add('change', state.change);
  return map;
}

/**
 * `original`: the stuck transaction, checked against its txid; `spent`: the outputs its inputs
 * spend, in order, each read from a transaction checked against its txid.
 */
export function buildBump(
  original: DecodedTx,
  spent: readonly { readonly script: string; readonly value: number }[],
  state: WalletState,
  keys: GroupKeys | Spender,
  network: BitcoinNetwork,
  feeRate: number,
): BuiltSend {
  if (!Number.isInteger(feeRate) || feeRate < MIN_FEE_RATE || feeRate > MAX_FEE_RATE) {
    throw new CosignerError('INVALID_INPUT', `the fee rate is a whole number of sat/vB from ${MIN_FEE_RATE} to ${MAX_FEE_RATE}`, {
      feeRate,
    });
  }
  const seen = state.history.find((h) => h.txid === original.txid);
  if (!seen)
    throw new CosignerError('INVALID_INPUT', "that transaction is not in the group's history: refresh the wallet", { txid: original.txid });
  if (seen.confirmed)
    throw new CosignerError('INVALID_INPUT', 'that transaction is already confirmed: nothing to speed up', { txid: original.txid });
  const spender = spenderOf(keys);
  const ours = addressesByScript(state, spender);
  const inputs = original.inputs.map((input, i) => {
    const prevout = spent[i];
    const owner = prevout && ours.get(prevout.script);
    if (!prevout || !owner)
      throw new CosignerError(
        'INVALID_INPUT',
        "that transaction spends a coin that is not the group's: only the group's own spends can be replaced",
        { txid: original.txid },
      );
    return inputOf(spender, network, { txid: input.txid, vout: input.vout, value: prevout.value, ...owner });
  });
  const changeAt = original.outputs.findIndex((o) => ours.get(o.script)?.branch === 'change');
  if (changeAt < 0)
    throw new CosignerError('INSUFFICIENT_FUNDS', 'that transaction has no change to pay a higher fee from', { txid: original.txid });
  const changeOwner = ours.get(original.outputs[changeAt]!.script)!;
  const changeKey = { outputKey: spender.outputKey([CHANGE_BRANCH, changeOwner.index]) };
  const outputs: SpendOutput[] = original.outputs.map((o, i) => ({
    script: hexToBytes(o.script),
    amount: BigInt(o.value),
    change: i === changeAt,
  }));

  const totalIn = spent.reduce((sum, p) => sum + BigInt(p.value), 0n);
  const oldFee = totalIn - outputs.reduce((sum, o) => sum + o.amount, 0n);
  // The amounts' 8 bytes do not change the size: measure with the original outputs.
  const vsize = BigInt(finishSpend(inputs, outputs, spender, network, { key: changeKey, index: changeOwner.index }).vsize);
  const wanted = BigInt(feeRate) * vsize;
  const floor = oldFee + INCREMENTAL_RELAY_FEE_RATE * vsize;
  const fee = wanted > floor ? wanted : floor;
  const change = outputs[changeAt]!.amount - (fee - oldFee);
  if (change < BigInt(dustThreshold(outputs[changeAt]!.script))) {
    throw new CosignerError(
      'INSUFFICIENT_FUNDS',
      `the change of that transaction cannot pay a fee of ${fee} sat: send again with more coins instead`,
      {
        txid: original.txid,
        fee: Number(fee),
      },
    );
  }
  const replaced = outputs.map((o, i) => (i === changeAt ? { ...o, amount: change } : o));
  return finishSpend(inputs, replaced, spender, network, { key: changeKey, index: changeOwner.index });
}
