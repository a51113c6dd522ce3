/**
 * A group's coins, read from a chain server (a ChainClient port): its BIP328 receive and change
 * branches (`tr(musig(...)/0/*)`, `/1/*`) are scanned until `gapLimit` unused addresses in a row,
 * and from their histories come the balance, the coins, and what each transaction did to the group.
 *
 * Every transaction used is fetched as hex and checked against its txid and the JSON (verify.ts),
 * once per txid: a txid names its bytes for ever, so the checked transactions are kept between scans
 * (bounded). Confirmation status is the server's word and is read afresh at each scan, so a reorg
 * (a transaction gone, or at another height) shows at the next refresh.
 */
import { CosignerError } from '../errors.ts';
import type { WalletState } from '../../preload/contract.ts';
import { CHAIN_TXS_PER_PAGE, type ChainClient, type EsploraTx, type EsploraUtxo } from './esplora.ts';
import { checkTxAgainstHex, checkTxJson, type DecodedTx } from './verify.ts';
import { CHANGE_BRANCH, RECEIVE_BRANCH } from '../wallet/bip328.ts';

export interface WatchedAddress {
  readonly address: string;
  /** Its output script, hex: what the transactions' outputs are compared with. */
  readonly script: string;
}

export interface ScanOptions {
  /** The group's address at `[branch, index]` (main/wallet/group-keys.ts). */
  addressAt(branch: number, index: number): WatchedAddress;
  gapLimit: number;
  now(): number;
  /** Transactions already checked against their hex (kept by the caller between scans). */
  checked?: CheckedTxs;
}

/** Addresses scanned per branch at most: a gap limit of 200 past 1800 used addresses. */
export const MAX_ADDRESSES_PER_BRANCH = 2000;
/** Pages of 25 confirmed transactions followed per address (a reused address with more is refused). */
export const MAX_PAGES_PER_ADDRESS = 40;
/** Requests in flight at once toward the server. */
const CONCURRENCY = 4;

/** Checked transactions by txid, least recently used dropped first. */
export class CheckedTxs {
  readonly #txs = new Map<string, DecodedTx>();
  readonly limit: number;
  constructor(limit = 20_000) {
    this.limit = limit;
  }
  get(txid: string): DecodedTx | undefined {
    const tx = this.#txs.get(txid);
    if (tx) {
      this.#txs.delete(txid);
      this.#txs.set(txid, tx);
    }
    return tx;
  }
  add(tx: DecodedTx): void {
    if (this.#txs.size >= this.limit) this.#txs.delete(this.#txs.keys().next().value as string);
    this.#txs.set(tx.txid, tx);
  }
}

async function mapLimited<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
  return results;
}

interface AddressScan {
  readonly index: number;
  readonly watched: WatchedAddress;
  readonly txs: EsploraTx[];
  readonly utxos: EsploraUtxo[];
}

/** An address's whole history: the first page, then the confirmed pages after it. */
async function historyOf(client: ChainClient, address: string): Promise<EsploraTx[]> {
  const txs = await client.addressTxs(address);
  let page = txs.filter((tx) => tx.status.confirmed);
  for (let pages = 1; page.length >= CHAIN_TXS_PER_PAGE; pages++) {
    if (pages >= MAX_PAGES_PER_ADDRESS) {
      throw new CosignerError(
        'CHAIN_INVALID_RESPONSE',
        `an address has more than ${MAX_PAGES_PER_ADDRESS * CHAIN_TXS_PER_PAGE} transactions`,
        { address },
      );
    }
    page = await client.addressTxsChain(address, (page[page.length - 1] as EsploraTx).txid);
    txs.push(...page);
  }
  return txs;
}

async function scanAddress(client: ChainClient, index: number, watched: WatchedAddress): Promise<AddressScan> {
  // Coins first, history second: a coin that arrives in between is then in the history too.
  const utxos = await client.addressUtxos(watched.address);
  const txs = await historyOf(client, watched.address);
  return { index, watched, txs, utxos };
}

/** One branch, until `gapLimit` unused addresses follow the last used one. */
async function scanBranch(client: ChainClient, branch: number, options: ScanOptions): Promise<AddressScan[]> {
  const scans: AddressScan[] = [];
  let lastUsed = -1;
  while (scans.length < lastUsed + 1 + options.gapLimit) {
    if (scans.length >= MAX_ADDRESSES_PER_BRANCH) {
      throw new CosignerError('CHAIN_INVALID_RESPONSE', `more than ${MAX_ADDRESSES_PER_BRANCH} addresses on one branch`, { branch });
    }
    const end = Math.min(lastUsed + 1 + options.gapLimit, scans.length + CONCURRENCY, MAX_ADDRESSES_PER_BRANCH);
    const indices = Array.from({ length: end - scans.length }, (_, k) => scans.length + k);
    const batch = await Promise.all(indices.map((i) => scanAddress(client, i, options.addressAt(branch, i))));
    for (const scan of batch) {
      scans.push(scan);
      if (scan.txs.length > 0 || scan.utxos.length > 0) lastUsed = scan.index;
    }
  }
  return scans;
}

function mismatch(what: string, context: Record<string, string | number>): CosignerError {
  return new CosignerError('CHAIN_INVALID_RESPONSE', `the chain server's answers disagree: ${what}`, context);
}

/** Scans the group's two branches and builds its state from checked transactions. */
export async function scanGroup(client: ChainClient, options: ScanOptions): Promise<WalletState> {
  const checked = options.checked ?? new CheckedTxs();
  const tipHeight = await client.tipHeight();
  const receive = await scanBranch(client, RECEIVE_BRANCH, options);
  const change = await scanBranch(client, CHANGE_BRANCH, options);

  const ours = new Map<string, { branch: 'receive' | 'change'; scan: AddressScan }>();
  for (const scan of receive) ours.set(scan.watched.script, { branch: 'receive', scan });
  for (const scan of change) ours.set(scan.watched.script, { branch: 'change', scan });

  // One JSON per txid (the first listing of it), each checked against its hex.
  const listed = new Map<string, EsploraTx>();
  for (const scan of [...receive, ...change]) for (const tx of scan.txs) if (!listed.has(tx.txid)) listed.set(tx.txid, tx);
  const decoded = new Map<string, DecodedTx>();
  await mapLimited([...listed.values()], async (tx) => {
    let known = checked.get(tx.txid);
    // The JSON is checked against the bytes at every scan (it is new each time); the bytes are fetched once.
    if (known) checkTxJson(tx, known);
    else {
      known = checkTxAgainstHex(tx, await client.txHex(tx.txid));
      checked.add(known);
    }
    decoded.set(tx.txid, known);
  });

  const utxos: WalletState['utxos'] = [];
  for (const scan of [...receive, ...change]) {
    const branch = ours.get(scan.watched.script)!.branch;
    for (const utxo of scan.utxos) {
      const tx = decoded.get(utxo.txid);
      if (!tx) throw mismatch('a coin whose transaction is not in the address history', { txid: utxo.txid });
      const out = tx.outputs[utxo.vout];
      if (!out || out.script !== scan.watched.script)
        throw mismatch('a coin that does not pay its address', { txid: utxo.txid, vout: utxo.vout });
      if (out.value !== utxo.value)
        throw mismatch(`a coin of ${out.value} sat reported as ${utxo.value} sat`, { txid: utxo.txid, vout: utxo.vout });
      utxos.push({
        txid: utxo.txid,
        vout: utxo.vout,
        value: out.value,
        address: scan.watched.address,
        branch,
        index: scan.index,
        confirmed: utxo.status.confirmed,
        height: utxo.status.confirmed ? (utxo.status.block_height ?? null) : null,
      });
    }
  }

  const history: WalletState['history'] = [...listed.values()].map((json) => {
    const tx = decoded.get(json.txid)!;
    const received = tx.outputs.reduce((sum, out) => (ours.has(out.script) ? sum + out.value : sum), 0);
    const sent = tx.inputs.reduce((sum, input) => {
      const spent = decoded.get(input.txid)?.outputs[input.vout];
      return spent && ours.has(spent.script) ? sum + spent.value : sum;
    }, 0);
    const confirmed = json.status.confirmed;
    return {
      txid: json.txid,
      confirmed,
      height: confirmed ? (json.status.block_height ?? null) : null,
      blockTime: confirmed ? (json.status.block_time ?? null) : null,
      received,
      sent,
    };
  });
  // Unconfirmed first, then by height, newest first; ties by txid, so equal states read equal.
  history.sort((a, b) => (b.height ?? Infinity) - (a.height ?? Infinity) || (a.txid < b.txid ? -1 : 1));

  const view = (scans: AddressScan[]) =>
    scans.map((s) => ({ index: s.index, address: s.watched.address, used: s.txs.length > 0 || s.utxos.length > 0 }));
  const receiveView = view(receive);
  const lastUsedReceive = receiveView.reduce((last, a) => (a.used ? a.index : last), -1);
  const nextIndex = lastUsedReceive + 1;
  return {
    fetchedAt: options.now(),
    tipHeight,
    gapLimit: options.gapLimit,
    balance: {
      confirmed: utxos.reduce((sum, u) => (u.confirmed ? sum + u.value : sum), 0),
      unconfirmed: utxos.reduce((sum, u) => (u.confirmed ? sum : sum + u.value), 0),
    },
    utxos,
    history,
    receive: receiveView,
    change: view(change),
    nextReceive: { index: nextIndex, address: options.addressAt(RECEIVE_BRANCH, nextIndex).address },
  };
}
