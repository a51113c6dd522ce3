/**
 * A local Electrum-protocol server (protocol 1.4: newline-delimited JSON-RPC 2.0 over TCP on
 * 127.0.0.1, port 0) over the same TestChain the Esplora test server serves, answering the methods a
 * wallet uses in the shapes of the protocol's documentation (electrs src/electrum/server.rs):
 * `get_history` lists the mined transactions in block order, then the mempool ones at height 0, or
 * -1 when a parent is unconfirmed; block headers are 80 bytes whose nTime is the TestChain block's.
 *
 * Faults for the error tests: `fault` answers chosen requests by closing the connection, never
 * answering, writing a line that is not JSON or a true answer padded past the client's limit, a JSON-RPC error, an answer
 * to an unknown id before the real one, or a result rewritten by the test (a server that lies).
 */
import * as bitcoin from 'bitcoinjs-lib';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { TestChain } from './esplora-server.ts';

export type ElectrumFault =
  | { kind: 'close' }
  | { kind: 'hang' }
  | { kind: 'malformed' }
  | { kind: 'oversized'; chars: number }
  | { kind: 'error'; message: string }
  | { kind: 'stray' }
  | { kind: 'rewrite'; rewrite: (result: unknown) => unknown };

export interface ElectrumServer {
  /** tcp://127.0.0.1:port, or ssl:// */
  readonly url: string;
  readonly chain: TestChain;
  /** Every request's method, in order of arrival. */
  readonly requests: string[];
  /** Raw transactions received by blockchain.transaction.broadcast, exactly as sent. */
  readonly broadcasts: string[];
  /** Connections accepted so far, and how many are open now. */
  readonly connections: { accepted: number; open: number };
  /** Answers the next requests of a matching method with a fault (`times` of them; default every one). */
  fault(method: RegExp, fault: ElectrumFault, times?: number): void;
  clearFaults(): void;
  close(): Promise<void>;
}

class RpcError extends Error {}

const reversedHex = (hex: string) => Buffer.from(hex, 'hex').reverse().toString('hex');

/** The Electrum script hash of an output script: SHA-256, byte-reversed, hex. */
function scriptHashOf(script: Uint8Array): string {
  return Buffer.from(bitcoin.crypto.sha256(Buffer.from(script)))
    .reverse()
    .toString('hex');
}

/** An 80-byte header for the block at `height`: nTime is the block's; its hash names the block. */
function headerHex(chain: TestChain, height: number): string {
  const block = chain.blocks[height]!;
  const header = Buffer.alloc(80);
  header.writeUInt32LE(0x2000_0000, 0);
  if (height > 0) Buffer.from(chain.blocks[height - 1]!.hash, 'hex').copy(header, 4);
  Buffer.from(block.hash, 'hex').copy(header, 36);
  header.writeUInt32LE(block.time, 68);
  header.writeUInt32LE(0x207f_ffff, 72);
  header.writeUInt32LE(height, 76);
  return header.toString('hex');
}

function answerOf(chain: TestChain, broadcasts: string[], method: string, params: unknown[]): unknown {
  const scriptOf = (hash: unknown): string => {
    for (const tx of chain.txs.values())
      for (const out of tx.outs) if (scriptHashOf(out.script) === hash) return Buffer.from(out.script).toString('hex');
    return '';
  };
  switch (method) {
    case 'server.version':
      return ['TestElectrum 1.0', '1.4'];
    case 'blockchain.headers.subscribe':
      return { height: chain.tipHeight, hex: headerHex(chain, chain.tipHeight) };
    case 'blockchain.block.header': {
      const height = params[0];
      if (typeof height !== 'number' || height < 0 || height > chain.tipHeight) throw new RpcError(`height ${height} out of range`);
      return headerHex(chain, height);
    }
    case 'blockchain.estimatefee': {
      const rate = chain.feeEstimates[String(params[0])];
      // sat/vB to BTC/kvB, as bitcoind's estimatesmartfee gives it.
      return rate === undefined ? -1 : rate / 100_000;
    }
    case 'blockchain.scripthash.get_history': {
      const { mempool, confirmed } = chain.history(scriptOf(params[0]));
      const unconfirmedParent = (txid: string) =>
        chain.txs.get(txid)!.ins.some((i) => chain.mempool.includes(reversedHex(Buffer.from(i.hash).toString('hex'))));
      return [
        ...[...confirmed].reverse().map((txid) => ({ tx_hash: txid, height: chain.heightOf(txid)! })),
        ...[...mempool].reverse().map((txid) => ({
          tx_hash: txid,
          height: unconfirmedParent(txid) ? -1 : 0,
          fee: Number(chain.fee(chain.txs.get(txid)!) ?? 0n),
        })),
      ];
    }
    case 'blockchain.scripthash.listunspent':
      return chain
        .utxos(scriptOf(params[0]))
        .map((u) => ({ tx_hash: u.txid, tx_pos: u.vout, height: chain.heightOf(u.txid) ?? 0, value: u.value }));
    case 'blockchain.transaction.get': {
      const txid = String(params[0]);
      const tx = chain.txs.get(txid);
      if (!tx || (chain.heightOf(txid) === null && !chain.mempool.includes(txid)))
        throw new RpcError('No such mempool or blockchain transaction');
      return tx.toHex();
    }
    case 'blockchain.transaction.broadcast': {
      broadcasts.push(String(params[0]));
      const sent = chain.submit(String(params[0]));
      // electrs relays bitcoind's refusal in its error message.
      if ('refusal' in sent) throw new RpcError(`sendrawtransaction RPC error: ${sent.refusal}`);
      return sent.txid;
    }
    default:
      throw new RpcError(`unknown method "${method}"`);
  }
}

/** `tls`: serve ssl:// with this key and certificate (PEM) instead of tcp://. */
export async function startElectrumServer(chain = new TestChain(), tls?: { key: string; cert: string }): Promise<ElectrumServer> {
  const requests: string[] = [];
  const broadcasts: string[] = [];
  const connections = { accepted: 0, open: 0 };
  let faults: { match: RegExp; fault: ElectrumFault; left: number }[] = [];
  const sockets = new Set<Socket>();

  const onRequest = (socket: Socket, line: string) => {
    let request: { id: number; method: string; params?: unknown[] };
    try {
      request = JSON.parse(line);
    } catch {
      socket.write(`${JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error' } })}\n`);
      return;
    }
    requests.push(request.method);
    const hit = faults.find((f) => f.left > 0 && f.match.test(request.method));
    if (hit) hit.left -= 1;
    const fault = hit?.fault;
    const reply = (body: Record<string, unknown>) => socket.write(`${JSON.stringify({ jsonrpc: '2.0', id: request.id, ...body })}\n`);
    if (fault?.kind === 'close') return void socket.destroy();
    if (fault?.kind === 'hang') return;
    if (fault?.kind === 'malformed') return void socket.write('{"jsonrpc": "2.0", "id": \n');
    if (fault?.kind === 'error') return void reply({ error: { code: 1, message: fault.message } });
    let result: unknown;
    try {
      result = answerOf(chain, broadcasts, request.method, request.params ?? []);
    } catch (e) {
      if (!(e instanceof RpcError)) throw e;
      return void reply({ error: { code: 1, message: e.message } });
    }
    if (fault?.kind === 'stray') {
      // A new tip, as a subscribed client is told, then an answer to an id the client never used.
      socket.write(
        `${JSON.stringify({ jsonrpc: '2.0', method: 'blockchain.headers.subscribe', params: [answerOf(chain, broadcasts, 'blockchain.headers.subscribe', [])] })}\n`,
      );
      socket.write(`${JSON.stringify({ jsonrpc: '2.0', id: request.id + 1_000_000, result: 'stray' })}\n`);
    }
    if (fault?.kind === 'rewrite') result = fault.rewrite(result);
    // A true answer padded with blanks to `chars`: only its length is wrong.
    if (fault?.kind === 'oversized') {
      const line = JSON.stringify({ jsonrpc: '2.0', id: request.id, result });
      return void socket.write(`${line.slice(0, -1)}${' '.repeat(Math.max(0, fault.chars - line.length))}}\n`);
    }
    reply({ result });
  };

  const onConnection = (socket: Socket) => {
    connections.accepted += 1;
    connections.open += 1;
    sockets.add(socket);
    socket.setEncoding('utf8');
    let buffer = '';
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (let end = buffer.indexOf('\n'); end >= 0; end = buffer.indexOf('\n')) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 1);
        if (line.trim() !== '' && !socket.destroyed) onRequest(socket, line);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      connections.open -= 1;
      sockets.delete(socket);
    });
  };
  const server = tls ? createTlsServer(tls, onConnection) : createServer(onConnection);
  // A client that refuses the certificate ends the handshake: nothing to serve.
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${tls ? 'ssl' : 'tcp'}://127.0.0.1:${port}`,
    chain,
    requests,
    broadcasts,
    connections,
    fault(match, fault, times = Infinity) {
      faults.push({ match, fault, left: times });
    },
    clearFaults() {
      faults = [];
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
