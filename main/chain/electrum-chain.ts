/**
 * The ChainClient the watcher and the broadcaster use, over an Electrum-protocol server
 * (electrum.ts): Electrum's answers mapped into the Esplora shapes of esplora.ts.
 *
 * Electrum lists an address's history as txids with heights (by script hash: SHA-256 of the output
 * script, byte-reversed, in hex). Everything else a transaction says (its inputs, its outputs and
 * their amounts) is read here from its raw bytes, fetched with `blockchain.transaction.get` and
 * checked against the txid, so the JSON the watcher gets is the transaction's own. The server's
 * word remains for what cannot be checked without block headers (SPV), as with Esplora: heights,
 * block times, which transactions exist, and the coins' amounts in `listunspent`, which the watcher
 * checks against the transactions. A lying server can thus hide or invent coins and confirmations,
 * never change an amount unseen (esplora.ts says what that can and cannot cost).
 *
 * What the server learns: the script hashes of every address scanned (the group's addresses, as
 * linkable as Esplora's) and the user's IP address. One's own server is the private choice.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { Address, OutScript } from '@scure/btc-signer';
import { z } from 'zod';
import type { BitcoinNetwork } from '../../preload/contract.ts';
import { CosignerError } from '../errors.ts';
import { BTC_NETWORKS } from '../wallet/networks.ts';
import type { ElectrumClient } from './electrum.ts';
import { ALREADY_KNOWN, CHAIN_TXS_PER_PAGE, type ChainClient, type EsploraTx, type EsploraUtxo, type FeeEstimates } from './esplora.ts';
import { decodeTxHex, txidOfHex, type DecodedTx } from './verify.ts';

const Txid = z.string().regex(/^[0-9a-f]{64}$/, 'a txid');
/** Electrum heights: > 0 mined at that height; 0 unconfirmed; -1 unconfirmed with an unconfirmed parent. */
const ElectrumHeight = z.number().int().min(-1).max(100_000_000);
const History = z.array(z.object({ tx_hash: Txid, height: ElectrumHeight }).loose()).max(100_000);
const Unspent = z
  .array(
    z
      .object({
        tx_hash: Txid,
        tx_pos: z.number().int().nonnegative().max(0xffff_ffff),
        height: ElectrumHeight,
        value: z.number().int().nonnegative().max(2_100_000_000_000_000),
      })
      .loose(),
  )
  .max(10_000);
const HeaderHex = z.string().regex(/^[0-9a-f]{160}$/, 'an 80-byte block header');
const Tip = z.object({ height: ElectrumHeight.refine((h) => h >= 0), hex: HeaderHex }).loose();
const TxHex = z
  .string()
  .regex(/^(?:[0-9a-fA-F]{2})+$/, 'a transaction in hex')
  .transform((s) => s.toLowerCase());
/** BTC per kvB, or -1 when the server has no estimate for the target. */
const FeeRate = z.union([z.literal(-1), z.number().positive().max(10)]);

/** Confirmation targets asked for fee estimates (blocks), the ones the Send form's choice reads. */
export const FEE_TARGETS = [1, 2, 3, 6, 144] as const;
/** Raw transactions kept by txid (a txid names its bytes for ever), least recently used dropped. */
const TX_CACHE = 5000;
/** Block times kept by height; dropped whenever the tip changes (a reorg changes the blocks). */
const TIME_CACHE = 10_000;

type HistoryItem = z.infer<typeof History>[number];

/** The Electrum script hash of an output script: SHA-256, byte-reversed, hex (protocol "Script Hashes"). */
export function scriptHash(script: Uint8Array): string {
  return bytesToHex(sha256(script).reverse());
}

/** A bounded least-recently-used map. */
class Lru<V> {
  readonly #map = new Map<string, V>();
  readonly limit: number;
  constructor(limit: number) {
    this.limit = limit;
  }
  get(key: string): V | undefined {
    const value = this.#map.get(key);
    if (value !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, value);
    }
    return value;
  }
  set(key: string, value: V): void {
    if (this.#map.size >= this.limit) this.#map.delete(this.#map.keys().next().value as string);
    this.#map.set(key, value);
  }
}

export class ElectrumChainClient implements ChainClient {
  readonly #electrum: ElectrumClient;
  readonly #network: BitcoinNetwork;
  readonly #txs = new Lru<{ hex: string; tx: DecodedTx }>(TX_CACHE);
  readonly #times = new Map<number, number>();
  #tipHeader: string | null = null;

  constructor(electrum: ElectrumClient, network: BitcoinNetwork) {
    this.#electrum = electrum;
    this.#network = network;
  }

  /** The server's tcp:// or ssl:// URL. */
  get url(): string {
    return this.#electrum.url;
  }

  /** Closes the server connection (electrum.ts). */
  close(): void {
    this.#electrum.close();
  }

  async addressTxs(address: string): Promise<EsploraTx[]> {
    const { mempool, confirmed } = await this.#history(address);
    return Promise.all([...mempool, ...confirmed.slice(0, CHAIN_TXS_PER_PAGE)].map((item) => this.#describe(item)));
  }

  async addressTxsChain(address: string, lastSeenTxid: string): Promise<EsploraTx[]> {
    const { confirmed } = await this.#history(address);
    const after = confirmed.findIndex((item) => item.tx_hash === lastSeenTxid);
    // Esplora answers a txid it does not list with the first page: so does this.
    const page = confirmed.slice(after + 1, after + 1 + CHAIN_TXS_PER_PAGE);
    return Promise.all(page.map((item) => this.#describe(item)));
  }

  async addressUtxos(address: string): Promise<EsploraUtxo[]> {
    const unspent = this.#parse(
      'blockchain.scripthash.listunspent',
      await this.#electrum.call('blockchain.scripthash.listunspent', [this.#scriptHashOf(address)]),
      Unspent,
    );
    // The value is the server's word here; the watcher checks it against the transaction's output.
    return unspent.map((u) => ({
      txid: u.tx_hash,
      vout: u.tx_pos,
      value: u.value,
      status: u.height > 0 ? { confirmed: true, block_height: u.height } : { confirmed: false },
    }));
  }

  async txHex(txid: string): Promise<string> {
    return (await this.#tx(txid)).hex;
  }

  async tipHeight(): Promise<number> {
    const tip = this.#parse('blockchain.headers.subscribe', await this.#electrum.call('blockchain.headers.subscribe', []), Tip);
    if (tip.hex !== this.#tipHeader) {
      this.#times.clear();
      this.#tipHeader = tip.hex;
    }
    return tip.height;
  }

  /** `blockchain.estimatefee` per target, BTC/kvB turned into sat/vB; a target without estimate left out. */
  async feeEstimates(): Promise<FeeEstimates> {
    const rates = await Promise.all(
      FEE_TARGETS.map(async (target) =>
        this.#parse('blockchain.estimatefee', await this.#electrum.call('blockchain.estimatefee', [target]), FeeRate),
      ),
    );
    const estimates: FeeEstimates = {};
    FEE_TARGETS.forEach((target, i) => {
      const rate = rates[i]!;
      // 1 BTC/kvB = 1e8 sat per 1000 vB = 1e5 sat/vB; rounded to 1/1000 sat/vB against float noise.
      if (rate !== -1) estimates[String(target)] = Math.round(rate * 1e8) / 1000;
    });
    return estimates;
  }

  /**
   * As Esplora's broadcast: the txid is computed from the bytes, a server naming another is not
   * believed, and a transaction the network already has (Bitcoin Core's answers, relayed in the
   * server's error message) is success.
   */
  async broadcast(txHex: string): Promise<string> {
    const txid = txidOfHex(txHex);
    const answer = await this.#electrum.request('blockchain.transaction.broadcast', [txHex]);
    if (answer.ok) {
      if (answer.result !== txid) {
        throw new CosignerError('CHAIN_INVALID_RESPONSE', 'the chain server answered the broadcast with another txid', { txid });
      }
      return txid;
    }
    if (ALREADY_KNOWN.test(answer.message)) return txid;
    throw new CosignerError('BROADCAST_REJECTED', `the server refused the transaction: ${answer.message.slice(0, 500)}`, {
      txid,
      reason: answer.message.slice(0, 500),
    });
  }

  #scriptHashOf(address: string): string {
    let script: Uint8Array;
    try {
      script = OutScript.encode(Address(BTC_NETWORKS[this.#network]).decode(address));
    } catch {
      throw new CosignerError('INVALID_INPUT', `not a ${this.#network} address`, { address: address.slice(0, 100) });
    }
    return scriptHash(script);
  }

  /** The address's history in Esplora's order: newest first, the unconfirmed ones before the rest. */
  async #history(address: string): Promise<{ mempool: HistoryItem[]; confirmed: HistoryItem[] }> {
    const history = this.#parse(
      'blockchain.scripthash.get_history',
      await this.#electrum.call('blockchain.scripthash.get_history', [this.#scriptHashOf(address)]),
      History,
    );
    // Electrum lists the mined ones in block order, then the mempool: reversed, newest first.
    const newestFirst = [...history].reverse();
    return { mempool: newestFirst.filter((h) => h.height <= 0), confirmed: newestFirst.filter((h) => h.height > 0) };
  }

  /** The Esplora JSON of a listed transaction: its inputs and outputs from its checked bytes. */
  async #describe(item: HistoryItem): Promise<EsploraTx> {
    const { tx } = await this.#tx(item.tx_hash);
    const status =
      item.height > 0
        ? { confirmed: true, block_height: item.height, block_time: await this.#blockTime(item.height) }
        : { confirmed: false };
    return {
      txid: tx.txid,
      vin: tx.inputs.map((i) => ({ txid: i.txid, vout: i.vout })),
      vout: tx.outputs.map((o) => ({ scriptpubkey: o.script, value: o.value })),
      status,
    };
  }

  /** A transaction's bytes, checked against the txid asked for, fetched once per txid. */
  async #tx(txid: string): Promise<{ hex: string; tx: DecodedTx }> {
    if (!/^[0-9a-f]{64}$/.test(txid)) throw new CosignerError('INVALID_INPUT', 'not a txid', { txid: txid.slice(0, 100) });
    const known = this.#txs.get(txid);
    if (known) return known;
    const hex = this.#parse('blockchain.transaction.get', await this.#electrum.call('blockchain.transaction.get', [txid]), TxHex);
    let tx: DecodedTx;
    try {
      tx = decodeTxHex(hex);
    } catch {
      throw new CosignerError('CHAIN_INVALID_RESPONSE', 'the chain server sent bytes that are not a transaction', { txid });
    }
    if (tx.txid !== txid) {
      throw new CosignerError('CHAIN_INVALID_RESPONSE', 'the chain server sent another transaction than the one asked for', { txid });
    }
    const checked = { hex, tx };
    this.#txs.set(txid, checked);
    return checked;
  }

  /** The block time in the header at `height` (bytes 68..72, little-endian: the header's nTime). */
  async #blockTime(height: number): Promise<number> {
    const known = this.#times.get(height);
    if (known !== undefined) return known;
    const header = this.#parse('blockchain.block.header', await this.#electrum.call('blockchain.block.header', [height]), HeaderHex);
    const time = Number.parseInt(header.slice(136, 144).match(/../g)!.reverse().join(''), 16);
    if (this.#times.size >= TIME_CACHE) this.#times.clear();
    this.#times.set(height, time);
    return time;
  }

  #parse<S extends z.ZodType>(method: string, value: unknown, schema: S): z.output<S> {
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new CosignerError(
        'CHAIN_INVALID_RESPONSE',
        `the chain server's answer to ${method} has the wrong shape (${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''})`,
        { method },
      );
    }
    return parsed.data;
  }
}
