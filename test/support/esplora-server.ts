/**
 * A local Esplora-compatible HTTP server (node:http on 127.0.0.1, port 0) over a chain the test
 * builds: blocks and a mempool of real transactions (bitcoinjs-lib), indexed by output script the
 * way electrs indexes them, answering in the shapes of Blockstream/esplora API.md (electrs
 * src/rest.rs: a missing block_* for unconfirmed, `prevout` per input, 25 confirmed per page).
 * Scripts are not validated (no node here): the server is a chain index, not a consensus engine.
 * A broadcast spending what a mempool transaction spends is taken as its replacement by Bitcoin
 * Core's fee rules (BIP125, full RBF) or refused as Core would refuse it.
 *
 * Faults for the error tests: `fault` answers chosen requests with a 5xx, a hang, malformed JSON,
 * or a body rewritten by the test (a server lying about an amount).
 */
import * as bitcoin from 'bitcoinjs-lib';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as ecc from 'tiny-secp256k1';

bitcoin.initEccLib(ecc);

export const REGTEST = bitcoin.networks.regtest;

const COINBASE_TXID = '0'.repeat(64);

export type Fault =
  | { kind: 'status'; status: number; body?: string }
  | { kind: 'hang' }
  | { kind: 'malformed' }
  | { kind: 'rewrite'; rewrite: (body: string) => string };

interface Block {
  height: number;
  hash: string;
  time: number;
  txids: string[];
}

/** The chain a test builds: every transaction by txid, the blocks and the mempool. */
export class TestChain {
  readonly txs = new Map<string, bitcoin.Transaction>();
  readonly blocks: Block[] = [];
  readonly mempool: string[] = [];
  /** What GET /fee-estimates answers (blocks → sat/vB; electrs relays bitcoind's estimatesmartfee). */
  feeEstimates: Record<string, number> = { '1': 20.5, '2': 12.1, '3': 8.3, '6': 4.2, '144': 1.01 };
  /** The network the chain's addresses are read and written for (regtest unless said). */
  readonly network: bitcoin.Network;
  #faucet: { txid: string; vout: number; value: number }[] = [];
  #nonce = 0;

  /** A coinbase in a new block paying a stranger, whose outputs fund the test's payments. */
  constructor(faucetOutputs = 40, faucetValue = 50_000_000, network: bitcoin.Network = REGTEST) {
    this.network = network;
    const coinbase = new bitcoin.Transaction();
    coinbase.version = 2;
    coinbase.addInput(Buffer.alloc(32), 0xffffffff, 0xffffffff, Buffer.from('0151', 'hex'));
    const stranger = strangerScript('faucet');
    for (let i = 0; i < faucetOutputs; i++) coinbase.addOutput(stranger, BigInt(faucetValue));
    this.add(coinbase);
    this.mine();
    this.#faucet = Array.from({ length: faucetOutputs }, (_, vout) => ({ txid: coinbase.getId(), vout, value: faucetValue }));
  }

  get tipHeight(): number {
    return this.blocks.length - 1;
  }

  /** A transaction to the mempool. */
  add(tx: bitcoin.Transaction): string {
    const txid = tx.getId();
    this.txs.set(txid, tx);
    if (!this.mempool.includes(txid)) this.mempool.push(txid);
    return txid;
  }

  /**
   * A payment from `inputs` (outpoints, or the next faucet coin when none) to `outputs`; each input
   * gets a 64-byte witness, the shape of a taproot key-path spend.
   */
  pay(outputs: { address?: string; script?: Uint8Array; value: number }[], inputs?: { txid: string; vout: number }[]): string {
    const tx = new bitcoin.Transaction();
    tx.version = 2;
    const spent = inputs ?? [this.#faucet.shift()!];
    for (const input of spent) tx.addInput(Buffer.from(input.txid, 'hex').reverse(), input.vout, 0xfffffffd);
    for (const out of outputs) tx.addOutput(out.script ?? bitcoin.address.toOutputScript(out.address!, this.network), BigInt(out.value));
    spent.forEach((_, i) => tx.setWitness(i, [Buffer.alloc(64, ++this.#nonce & 0xff)]));
    return this.add(tx);
  }

  /** A block with `txids` (default: the whole mempool), in that order. */
  mine(txids: string[] = [...this.mempool]): Block {
    for (const txid of txids) this.mempool.splice(this.mempool.indexOf(txid), 1);
    const height = this.blocks.length;
    const block = { height, hash: hashOf(`block ${height} ${this.#nonce++} ${txids.join()}`), time: 1_700_000_000 + height * 600, txids };
    this.blocks.push(block);
    return block;
  }

  /** Drops the last `depth` blocks; their transactions go back to the mempool unless `drop` names them. */
  reorg(depth: number, drop: string[] = []): void {
    for (const block of this.blocks.splice(this.blocks.length - depth, depth).reverse()) {
      for (const txid of block.txids) {
        if (drop.includes(txid)) this.txs.delete(txid);
        else this.mempool.unshift(txid);
      }
    }
  }

  heightOf(txid: string): number | null {
    return this.blocks.find((b) => b.txids.includes(txid))?.height ?? null;
  }

  /** Transactions in the chain's order (blocks, then mempool). */
  ordered(): string[] {
    return [...this.blocks.flatMap((b) => b.txids), ...this.mempool];
  }

  prevout(txid: string, vout: number): { script: Buffer; value: bigint } | null {
    const out = this.txs.get(txid)?.outs[vout];
    return out ? { script: Buffer.from(out.script), value: out.value } : null;
  }

  #touches(txid: string, script: string): boolean {
    const tx = this.txs.get(txid)!;
    if (tx.outs.some((o) => Buffer.from(o.script).toString('hex') === script)) return true;
    return tx.ins.some((i) => this.prevout(Buffer.from(i.hash).reverse().toString('hex'), i.index)?.script.toString('hex') === script);
  }

  /** An address's history, newest first: mempool (newest added first), then blocks from the tip. */
  history(script: string): { mempool: string[]; confirmed: string[] } {
    return {
      mempool: [...this.mempool].reverse().filter((t) => this.#touches(t, script)),
      confirmed: [...this.blocks]
        .reverse()
        .flatMap((b) => [...b.txids].reverse())
        .filter((t) => this.#touches(t, script)),
    };
  }

  /** Outputs paying `script` that no transaction of the chain or mempool spends. */
  utxos(script: string): { txid: string; vout: number; value: number }[] {
    const spent = new Set<string>();
    for (const txid of this.ordered())
      for (const i of this.txs.get(txid)!.ins) spent.add(`${Buffer.from(i.hash).reverse().toString('hex')}:${i.index}`);
    return this.ordered().flatMap((txid) =>
      this.txs
        .get(txid)!
        .outs.map((o, vout) => ({ txid, vout, value: Number(o.value), script: Buffer.from(o.script).toString('hex') }))
        .filter((o) => o.script === script && !spent.has(`${txid}:${o.vout}`))
        .map(({ txid: t, vout, value }) => ({ txid: t, vout, value })),
    );
  }

  /** Mempool transactions spending an outpoint `tx` spends: what it would replace. */
  conflicts(tx: bitcoin.Transaction): string[] {
    const spends = new Set(tx.ins.map((i) => `${Buffer.from(i.hash).toString('hex')}:${i.index}`));
    return this.mempool.filter((t) => this.txs.get(t)!.ins.some((i) => spends.has(`${Buffer.from(i.hash).toString('hex')}:${i.index}`)));
  }

  /** Satoshis in minus out; null when an output it spends is not on this chain. */
  fee(tx: bitcoin.Transaction): bigint | null {
    let fee = 0n;
    for (const i of tx.ins) {
      const prev = this.prevout(Buffer.from(i.hash).reverse().toString('hex'), i.index);
      if (!prev) return null;
      fee += prev.value;
    }
    return fee - tx.outs.reduce((sum, o) => sum + o.value, 0n);
  }

  /**
   * Why Bitcoin Core would refuse `tx` as the replacement of `conflicts` (BIP125 rules 3, 4 and 6, as
   * Core's policy/rbf.cpp checks them with full RBF, its default since v28: the originals need not
   * signal); null when it takes it.
   */
  replacementRefusal(tx: bitcoin.Transaction, conflicts: readonly string[]): string | null {
    const fee = this.fee(tx);
    if (fee === null) return 'bad-txns-inputs-missingorspent';
    const rate = (f: bigint, t: bitcoin.Transaction) => Number(f) / t.virtualSize();
    let oldFees = 0n;
    for (const txid of conflicts) {
      const old = this.txs.get(txid)!;
      const oldFee = this.fee(old)!;
      if (rate(fee, tx) <= rate(oldFee, old)) return `insufficient fee, rejecting replacement ${tx.getId()}; new feerate <= old feerate`;
      oldFees += oldFee;
    }
    // Rule 4: the incremental relay fee, 1 sat/vB, for the replacement's own size.
    if (fee < oldFees + BigInt(tx.virtualSize()))
      return `insufficient fee, rejecting replacement ${tx.getId()}, not enough additional fees to relay`;
    return null;
  }

  /**
   * A broadcast, as Bitcoin Core's sendrawtransaction takes it: the txid, or Core's refusal as the
   * JSON error electrs relays (the same for the Esplora and the Electrum test servers).
   */
  submit(hex: string): { txid: string } | { refusal: string } {
    const refuse = (code: number, message: string) => ({ refusal: JSON.stringify({ code, message }) });
    let tx: bitcoin.Transaction;
    try {
      tx = bitcoin.Transaction.fromHex(hex);
    } catch {
      return refuse(-22, 'TX decode failed');
    }
    const txid = tx.getId();
    if (this.mempool.includes(txid)) return refuse(-26, 'txn-already-in-mempool');
    if (this.heightOf(txid) !== null) return refuse(-27, 'Transaction already in block chain');
    const conflicts = this.conflicts(tx);
    if (conflicts.length > 0) {
      const refusal = this.replacementRefusal(tx, conflicts);
      if (refusal !== null) return refuse(-26, refusal);
      this.evict(conflicts);
    }
    this.add(tx);
    return { txid };
  }

  /** Drops `txids` from the mempool, with every mempool transaction spending their outputs. */
  evict(txids: readonly string[]): void {
    const gone = new Set(txids);
    for (let grew = true; grew;) {
      grew = false;
      for (const t of this.mempool)
        if (!gone.has(t) && this.txs.get(t)!.ins.some((i) => gone.has(Buffer.from(i.hash).reverse().toString('hex')))) {
          gone.add(t);
          grew = true;
        }
    }
    for (const t of gone) if (this.mempool.includes(t)) this.mempool.splice(this.mempool.indexOf(t), 1);
  }

  status(txid: string): Record<string, unknown> {
    const block = this.blocks.find((b) => b.txids.includes(txid));
    return block ? { confirmed: true, block_height: block.height, block_hash: block.hash, block_time: block.time } : { confirmed: false };
  }

  /** GET /tx/:txid as electrs writes it. */
  json(txid: string): Record<string, unknown> {
    const tx = this.txs.get(txid)!;
    const out = (script: Buffer, value: bigint) => {
      const o: Record<string, unknown> = {
        scriptpubkey: script.toString('hex'),
        scriptpubkey_asm: '',
        scriptpubkey_type: 'v1_p2tr',
        value: Number(value),
      };
      try {
        o.scriptpubkey_address = bitcoin.address.fromOutputScript(script, this.network);
      } catch {
        o.scriptpubkey_type = 'unknown';
      }
      return o;
    };
    let fee = 0;
    const vin = tx.ins.map((i, index) => {
      const prevTxid = Buffer.from(i.hash).reverse().toString('hex');
      const coinbase = prevTxid === COINBASE_TXID;
      const prev = coinbase ? null : this.prevout(prevTxid, i.index);
      if (prev) fee += Number(prev.value);
      const witness = tx.ins[index]!.witness.map((w) => Buffer.from(w).toString('hex'));
      return {
        txid: prevTxid,
        vout: i.index,
        prevout: prev ? out(prev.script, prev.value) : null,
        scriptsig: Buffer.from(i.script).toString('hex'),
        scriptsig_asm: '',
        ...(witness.length ? { witness } : {}),
        is_coinbase: coinbase,
        sequence: i.sequence,
      };
    });
    const vout = tx.outs.map((o) => out(Buffer.from(o.script), o.value));
    if (!vin[0]?.is_coinbase) fee -= tx.outs.reduce((s, o) => s + Number(o.value), 0);
    return {
      txid,
      version: tx.version,
      locktime: tx.locktime,
      vin,
      vout,
      size: tx.byteLength(),
      weight: tx.weight(),
      fee: Math.max(0, fee),
      status: this.status(txid),
    };
  }
}

function hashOf(label: string): string {
  return Buffer.from(bitcoin.crypto.sha256(Buffer.from(label))).toString('hex');
}

/** Someone else's taproot output script. */
export function strangerScript(label: string): Buffer {
  return Buffer.concat([Buffer.from([0x51, 0x20]), Buffer.from(bitcoin.crypto.sha256(Buffer.from(label)))]);
}

export interface EsploraServer {
  readonly url: string;
  readonly chain: TestChain;
  /** Every request, as `METHOD path`. */
  readonly requests: string[];
  /** Bodies of POST /tx, exactly as received. */
  readonly broadcasts: string[];
  /** Answers the next matching requests with a fault (`times` of them; default every one). */
  fault(match: RegExp, fault: Fault, times?: number): void;
  clearFaults(): void;
  close(): Promise<void>;
}

export async function startEsploraServer(chain = new TestChain()): Promise<EsploraServer> {
  const requests: string[] = [];
  const broadcasts: string[] = [];
  let faults: { match: RegExp; fault: Fault; left: number }[] = [];
  const hanging = new Set<ServerResponse>();

  const route = (method: string, path: string, body: string): { status: number; body: string; json?: boolean } => {
    const json = (value: unknown) => ({ status: 200, body: JSON.stringify(value), json: true });
    const text = (status: number, value: string) => ({ status, body: value });
    let m: RegExpMatchArray | null;
    if (method === 'GET' && path === '/blocks/tip/height') return text(200, String(chain.tipHeight));
    if (method === 'GET' && path === '/fee-estimates') return json(chain.feeEstimates);
    if (method === 'GET' && (m = path.match(/^\/tx\/([0-9a-f]{64})(\/hex)?$/))) {
      const tx = chain.txs.get(m[1]!);
      if (!tx || (chain.heightOf(m[1]!) === null && !chain.mempool.includes(m[1]!))) return text(404, 'Transaction not found');
      return m[2] ? text(200, tx.toHex()) : json(chain.json(m[1]!));
    }
    if (method === 'GET' && (m = path.match(/^\/address\/([a-z0-9]+)\/(txs|utxo|txs\/chain\/([0-9a-f]{64}))$/))) {
      let script: string;
      try {
        script = Buffer.from(bitcoin.address.toOutputScript(m[1]!, chain.network)).toString('hex');
      } catch {
        return text(400, 'Invalid Bitcoin address');
      }
      if (m[2] === 'utxo') return json(chain.utxos(script).map((u) => ({ ...u, status: chain.status(u.txid) })));
      const { mempool, confirmed } = chain.history(script);
      if (m[2] === 'txs') return json([...mempool.slice(0, 50), ...confirmed.slice(0, 25)].map((t) => chain.json(t)));
      const after = confirmed.indexOf(m[3]!);
      return json(confirmed.slice(after + 1, after + 1 + 25).map((t) => chain.json(t)));
    }
    if (method === 'POST' && path === '/tx') {
      broadcasts.push(body);
      const sent = chain.submit(body);
      return 'txid' in sent ? text(200, sent.txid) : text(400, `sendrawtransaction RPC error: ${sent.refusal}`);
    }
    return text(404, 'not found');
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      requests.push(`${req.method} ${path}`);
      const body = Buffer.concat(chunks).toString('utf8');
      const hit = faults.find((f) => f.left > 0 && f.match.test(path));
      if (hit) hit.left -= 1;
      const fault = hit?.fault;
      if (fault?.kind === 'hang') {
        hanging.add(res);
        return;
      }
      if (fault?.kind === 'status') {
        res.writeHead(fault.status, { 'content-type': 'text/plain' }).end(fault.body ?? 'Internal Server Error');
        return;
      }
      const answer = route(req.method ?? 'GET', path, body);
      let out = answer.body;
      if (fault?.kind === 'malformed') out = out.slice(0, Math.max(1, Math.floor(out.length / 2)));
      if (fault?.kind === 'rewrite') out = fault.rewrite(out);
      res.writeHead(answer.status, { 'content-type': answer.json ? 'application/json' : 'text/plain' }).end(out);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    chain,
    requests,
    broadcasts,
    fault(match, fault, times = Infinity) {
      faults.push({ match, fault, left: times });
    },
    clearFaults() {
      faults = [];
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
