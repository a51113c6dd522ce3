/**
 * A client of an Esplora HTTP server (Blockstream/esplora API.md; electrs serves it): the few
 * endpoints a watch-only wallet needs, over an injected fetch, with a timeout per request, bounded
 * retries with exponential back-off, and every answer checked against the documented shapes.
 *
 * What a server can and cannot do to us (it is not trusted; see verify.ts for the checks):
 * - It cannot change what a transaction says: its hex must hash to the txid we asked for, and the
 *   JSON we use (output scripts and values, spent outpoints) must match that hex (verify.ts).
 * - It cannot make us sign away more than we see: BIP341's signature hash commits to every input's
 *   amount and script, so a spend built on a wrong amount gets signatures the network rejects —
 *   a failed broadcast, never a loss.
 * - It can hide transactions or coins, invent an unconfirmed or never-mined transaction paying us
 *   (its txid is its own hash), and lie about confirmations and heights: without block headers
 *   (SPV) this cannot be checked. Such a coin can only make a spend fail to broadcast.
 * - It learns the group's addresses and the user's IP address: use your own server.
 */
import { z } from 'zod';
import { CosignerError, isCosignerError } from '../errors.ts';
import type { Scheduler } from '../session/ports.ts';
import { txidOfHex } from './verify.ts';

/** The part of `fetch` the client uses; the global fetch fits it. */
export type FetchPort = (
  url: string,
  init: { method: 'GET' | 'POST'; body?: string; headers?: Record<string, string>; signal: AbortSignal },
) => Promise<{ status: number; text(): Promise<string> }>;

export interface EsploraOptions {
  /** e.g. https://blockstream.info/api (no trailing slash needed). */
  baseUrl: string;
  fetch: FetchPort;
  scheduler: Scheduler;
  /** Per attempt. */
  timeoutMs?: number;
  /** Attempts per request, the first included (1..5). */
  attempts?: number;
  /** First back-off; doubled after each failed attempt, capped at MAX_BACKOFF_MS. */
  backoffMs?: number;
}

export const DEFAULT_TIMEOUT_MS = 15_000;
export const DEFAULT_ATTEMPTS = 3;
export const DEFAULT_BACKOFF_MS = 500;
const MAX_ATTEMPTS = 5;
const MAX_BACKOFF_MS = 8_000;
/** Largest answer read: an address page is 75 transactions of at most a few kB each in JSON. */
export const MAX_RESPONSE_CHARS = 8 * 1024 * 1024;

// ---------- the documented shapes (API.md "Transaction format"; electrs src/rest.rs) ----------

const Hex = z.string().regex(/^(?:[0-9a-f]{2})*$/, 'lower-case hex');
const Txid = z.string().regex(/^[0-9a-f]{64}$/, 'a txid');
const U32 = z.number().int().nonnegative().max(0xffff_ffff);
const Sats = z.number().int().nonnegative().max(2_100_000_000_000_000);

/** electrs leaves block_* out for an unconfirmed transaction; other servers write null. */
export const TxStatus = z
  .object({
    confirmed: z.boolean(),
    block_height: z.number().int().nonnegative().nullish(),
    block_hash: Txid.nullish(),
    block_time: z.number().int().nonnegative().nullish(),
  })
  .refine((s) => !s.confirmed || typeof s.block_height === 'number', 'a confirmed transaction has a block height');
export type TxStatus = z.infer<typeof TxStatus>;

const TxOut = z.object({
  scriptpubkey: Hex,
  scriptpubkey_address: z.string().max(128).optional(),
  value: Sats,
});

// Only the fields used are required (an Esplora-compatible server may add or drop the others);
// each is documented in API.md's transaction format.
const TxIn = z.object({ txid: Txid, vout: U32 });

export const EsploraTx = z.object({
  txid: Txid,
  vin: z.array(TxIn),
  vout: z.array(TxOut),
  status: TxStatus,
});
export type EsploraTx = z.infer<typeof EsploraTx>;

export const EsploraUtxo = z.object({ txid: Txid, vout: U32, value: Sats, status: TxStatus });
export type EsploraUtxo = z.infer<typeof EsploraUtxo>;

const TxList = z.array(EsploraTx).max(100);
const UtxoList = z.array(EsploraUtxo).max(10_000);
const Height = z
  .string()
  .trim()
  .regex(/^\d{1,9}$/, 'a block height')
  .transform(Number);
const TxHex = z
  .string()
  .trim()
  .regex(/^(?:[0-9a-fA-F]{2})+$/, 'a transaction in hex')
  .transform((s) => s.toLowerCase());

/** GET /fee-estimates: confirmation target in blocks → sat/vB (API.md "Fee estimates"). */
const FeeEstimates = z
  .record(z.string().regex(/^[1-9]\d{0,3}$/, 'a confirmation target'), z.number().positive().max(1_000_000))
  .refine((r) => Object.keys(r).length <= 100, 'at most 100 targets');
export type FeeEstimates = z.infer<typeof FeeEstimates>;

/** Confirmed transactions per page of /address/:address/txs/chain (electrs CHAIN_TXS_PER_PAGE). */
export const CHAIN_TXS_PER_PAGE = 25;

/** What a chain backend gives the watcher and the broadcaster (a port: tests may serve it otherwise). */
export interface ChainClient {
  /** Newest first: up to 50 unconfirmed, then the first 25 confirmed. */
  addressTxs(address: string): Promise<EsploraTx[]>;
  /** The 25 confirmed transactions after `lastSeenTxid`, newest first. */
  addressTxsChain(address: string, lastSeenTxid: string): Promise<EsploraTx[]>;
  addressUtxos(address: string): Promise<EsploraUtxo[]>;
  txHex(txid: string): Promise<string>;
  tipHeight(): Promise<number>;
  /** Fee rates by confirmation target (blocks → sat/vB), as the server estimates them. */
  feeEstimates(): Promise<FeeEstimates>;
  /** POST /tx: the txid the server answered, or BROADCAST_REJECTED with its reason. */
  broadcast(txHex: string): Promise<string>;
}

/** A base URL the client may use: http(s), no credentials, query or fragment. */
export function checkBaseUrl(baseUrl: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new CosignerError('INVALID_INPUT', 'the chain server URL is not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new CosignerError('INVALID_INPUT', 'the chain server URL must be http or https');
  if (url.username || url.password || url.search || url.hash) {
    throw new CosignerError('INVALID_INPUT', 'the chain server URL takes no user, password, query or fragment');
  }
  return url.href.replace(/\/+$/, '');
}

const ADDRESS = /^[a-zA-Z0-9]{14,90}$/;

function pathSegment(value: string, what: 'address' | 'txid'): string {
  const ok = what === 'txid' ? /^[0-9a-f]{64}$/.test(value) : ADDRESS.test(value);
  if (!ok) throw new CosignerError('INVALID_INPUT', `not a ${what}`, { [what]: value.slice(0, 100) });
  return value;
}

class Retryable extends Error {}

export class EsploraClient implements ChainClient {
  readonly baseUrl: string;
  readonly #fetch: FetchPort;
  readonly #scheduler: Scheduler;
  readonly #timeoutMs: number;
  readonly #attempts: number;
  readonly #backoffMs: number;

  constructor(options: EsploraOptions) {
    this.baseUrl = checkBaseUrl(options.baseUrl);
    this.#fetch = options.fetch;
    this.#scheduler = options.scheduler;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#attempts = Math.min(Math.max(1, options.attempts ?? DEFAULT_ATTEMPTS), MAX_ATTEMPTS);
    this.#backoffMs = options.backoffMs ?? DEFAULT_BACKOFF_MS;
  }

  addressTxs(address: string): Promise<EsploraTx[]> {
    return this.#getJson(`/address/${pathSegment(address, 'address')}/txs`, TxList);
  }

  addressTxsChain(address: string, lastSeenTxid: string): Promise<EsploraTx[]> {
    return this.#getJson(`/address/${pathSegment(address, 'address')}/txs/chain/${pathSegment(lastSeenTxid, 'txid')}`, TxList);
  }

  addressUtxos(address: string): Promise<EsploraUtxo[]> {
    return this.#getJson(`/address/${pathSegment(address, 'address')}/utxo`, UtxoList);
  }

  async txHex(txid: string): Promise<string> {
    const path = `/tx/${pathSegment(txid, 'txid')}/hex`;
    return this.#parse(path, await this.#text('GET', path), TxHex);
  }

  feeEstimates(): Promise<FeeEstimates> {
    return this.#getJson('/fee-estimates', FeeEstimates);
  }

  async tipHeight(): Promise<number> {
    return this.#parse('/blocks/tip/height', await this.#text('GET', '/blocks/tip/height'), Height);
  }

  /**
   * Broadcasting twice, or a transaction already mined, is success: the network has it either way
   * (Bitcoin Core's "txn-already-in-mempool", "txn-already-known", "Transaction already in block
   * chain", "Transaction outputs already in utxo set", as electrs relays them in a 400's body).
   * The txid is computed here from the bytes; a server naming another one is not believed.
   */
  async broadcast(txHex: string): Promise<string> {
    const txid = txidOfHex(txHex);
    const answer = await this.#request('POST', '/tx', txHex);
    if (answer.status === 200) {
      if (answer.body.trim() !== txid) {
        throw new CosignerError('CHAIN_INVALID_RESPONSE', 'the chain server answered the broadcast with another txid', { txid });
      }
      return txid;
    }
    if (ALREADY_KNOWN.test(answer.body)) return txid;
    throw new CosignerError('BROADCAST_REJECTED', `the server refused the transaction: ${answer.body.slice(0, 500)}`, {
      txid,
      status: answer.status,
      reason: answer.body.slice(0, 500),
    });
  }

  async #getJson<S extends z.ZodType>(path: string, schema: S): Promise<z.output<S>> {
    const text = await this.#text('GET', path);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new CosignerError('CHAIN_INVALID_RESPONSE', `the chain server's answer to ${path} is not JSON`, { path });
    }
    return this.#parse(path, json, schema);
  }

  #parse<S extends z.ZodType>(path: string, value: unknown, schema: S): z.output<S> {
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new CosignerError(
        'CHAIN_INVALID_RESPONSE',
        `the chain server's answer to ${path} has the wrong shape (${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''})`,
        { path },
      );
    }
    return parsed.data;
  }

  async #text(method: 'GET' | 'POST', path: string): Promise<string> {
    const answer = await this.#request(method, path);
    if (answer.status !== 200) {
      throw new CosignerError(
        'CHAIN_INVALID_RESPONSE',
        `the chain server answered ${answer.status} to ${path}: ${answer.body.slice(0, 200)}`,
        {
          path,
          status: answer.status,
        },
      );
    }
    return answer.body;
  }

  /** One request with its retries: a 5xx, a 429, a timeout or a failed connection is tried again. */
  async #request(method: 'GET' | 'POST', path: string, body?: string): Promise<{ status: number; body: string }> {
    let last: unknown;
    for (let attempt = 0; attempt < this.#attempts; attempt++) {
      if (attempt > 0) await this.#sleep(Math.min(this.#backoffMs * 2 ** (attempt - 1), MAX_BACKOFF_MS));
      try {
        return await this.#once(method, path, body);
      } catch (e) {
        if (!(e instanceof Retryable)) throw e;
        last = e;
      }
    }
    throw new CosignerError(
      'CHAIN_UNAVAILABLE',
      `the chain server did not answer ${path} (${this.#attempts} attempts): ${(last as Error).message}`,
      {
        path,
        attempts: this.#attempts,
      },
    );
  }

  async #once(method: 'GET' | 'POST', path: string, body?: string): Promise<{ status: number; body: string }> {
    const controller = new AbortController();
    const timer = this.#scheduler.setTimeout(() => controller.abort(), this.#timeoutMs);
    try {
      const response = await this.#fetch(this.baseUrl + path, {
        method,
        ...(body === undefined ? {} : { body, headers: { 'content-type': 'text/plain' } }),
        signal: controller.signal,
      });
      const text = await response.text();
      if (response.status >= 500 || response.status === 429) throw new Retryable(`HTTP ${response.status}`);
      if (text.length > MAX_RESPONSE_CHARS)
        throw new CosignerError('CHAIN_INVALID_RESPONSE', `the chain server's answer to ${path} is too large`, { path });
      return { status: response.status, body: text };
    } catch (e) {
      if (e instanceof Retryable || isCosignerError(e)) throw e;
      throw new Retryable(controller.signal.aborted ? `no answer within ${this.#timeoutMs} ms` : String((e as Error)?.message ?? e));
    } finally {
      this.#scheduler.clear(timer);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.#scheduler.setTimeout(resolve, ms));
  }
}

export const ALREADY_KNOWN = /txn-already-in-mempool|txn-already-known|already in block ?chain|outputs already in utxo set/i;
