/**
 * A connection to an Electrum-protocol server (protocol 1.4, as electrs and Fulcrum serve it):
 * newline-delimited JSON-RPC 2.0 over one TCP or TLS connection per server, opened on the first
 * request with the `server.version` handshake, reused, opened again after a failure, closed by
 * `close()`. Each request has a timeout and bounded retries with exponential back-off (as
 * esplora.ts); requests in flight are bounded, and more wait for a free slot.
 *
 * The server is not trusted (electrum-chain.ts checks what it says against the transactions): here
 * a line that is not JSON, is longer than the limit, or is not a JSON-RPC answer breaks the
 * connection (CHAIN_INVALID_RESPONSE for the requests on it); an answer to an id we are not waiting
 * for (one that timed out, or made up) and a notification are ignored.
 */
import { connect as tcpConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { z } from 'zod';
import { ElectrumUrl } from '../../preload/contract.ts';
import { CosignerError } from '../errors.ts';
import type { Scheduler, TimerHandle } from '../session/ports.ts';
import { DEFAULT_ATTEMPTS, DEFAULT_BACKOFF_MS, DEFAULT_TIMEOUT_MS, MAX_RESPONSE_CHARS } from './esplora.ts';

export interface ElectrumEndpoint {
  readonly tls: boolean;
  readonly host: string;
  readonly port: number;
}

/** `tcp://host:port` or `ssl://host:port` (the contract's ElectrumUrl); an IPv6 host in brackets. */
export function parseElectrumUrl(url: string): ElectrumEndpoint {
  if (!ElectrumUrl.safeParse(url).success) {
    throw new CosignerError('INVALID_INPUT', 'the Electrum server is tcp://host:port or ssl://host:port');
  }
  const at = url.lastIndexOf(':');
  const host = url.slice('tcp://'.length, at).replace(/^\[(.*)\]$/, '$1');
  return { tls: url.startsWith('ssl://'), host, port: Number(url.slice(at + 1)) };
}

export interface ElectrumOptions {
  url: string;
  scheduler: Scheduler;
  /** Per attempt, the connection and its handshake included. */
  timeoutMs?: number;
  /** Attempts per request, the first included (1..5). */
  attempts?: number;
  /** First back-off; doubled after each failed attempt, capped at MAX_BACKOFF_MS. */
  backoffMs?: number;
  /** Longest line read; a longer one breaks the connection. */
  maxLineChars?: number;
  /** Requests in flight on the connection at once. */
  maxInFlight?: number;
  /** ssl:// only: certificates (PEM) trusted instead of the system's authorities, e.g. a server's own. */
  tlsCa?: string;
}

const MAX_ATTEMPTS = 5;
const MAX_BACKOFF_MS = 8_000;
/** A few per address of the watcher's concurrent scans, and the transactions of a history. */
export const DEFAULT_MAX_IN_FLIGHT = 32;
/** The protocol version asked for: 1.4 is what electrs serves and Fulcrum supports. */
export const PROTOCOL_VERSION = '1.4';
const CLIENT_NAME = 'Cosigner';

/** A JSON-RPC answer: a result, or the server's refusal with its message. */
export type RpcAnswer = { ok: true; result: unknown } | { ok: false; message: string };

const RpcResponse = z.union([
  z.object({ id: z.number().int(), result: z.unknown().refine((r) => r !== undefined, 'a result') }),
  z.object({ id: z.number().int(), error: z.object({ message: z.string().max(100_000) }).loose() }),
]);

/** A failure worth another attempt: no connection, the connection lost, no answer in time. */
class Retryable extends Error {}

interface Pending {
  readonly resolve: (answer: RpcAnswer) => void;
  readonly reject: (error: Error) => void;
  readonly timer: TimerHandle;
}

interface Connection {
  readonly socket: Socket;
  readonly pending: Map<number, Pending>;
  buffer: string;
  broken: boolean;
}

export class ElectrumClient {
  readonly url: string;
  readonly #endpoint: ElectrumEndpoint;
  readonly #scheduler: Scheduler;
  readonly #timeoutMs: number;
  readonly #attempts: number;
  readonly #backoffMs: number;
  readonly #maxLineChars: number;
  readonly #maxInFlight: number;
  readonly #tlsCa: string | undefined;
  #connection: Promise<Connection> | null = null;
  /** The connection #connection resolved to, once open: a broken one is replaced at the next request. */
  #opened: Connection | null = null;
  #nextId = 1;
  #inFlight = 0;
  readonly #waiting: (() => void)[] = [];
  #closed = false;

  constructor(options: ElectrumOptions) {
    this.#endpoint = parseElectrumUrl(options.url);
    this.url = options.url;
    this.#scheduler = options.scheduler;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#attempts = Math.min(Math.max(1, options.attempts ?? DEFAULT_ATTEMPTS), MAX_ATTEMPTS);
    this.#backoffMs = options.backoffMs ?? DEFAULT_BACKOFF_MS;
    this.#maxLineChars = options.maxLineChars ?? MAX_RESPONSE_CHARS;
    this.#maxInFlight = Math.max(1, options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT);
    this.#tlsCa = options.tlsCa;
  }

  /** The method's result; a refusal by the server is CHAIN_INVALID_RESPONSE with its message. */
  async call(method: string, params: readonly unknown[]): Promise<unknown> {
    const answer = await this.request(method, params);
    if (answer.ok) return answer.result;
    throw new CosignerError('CHAIN_INVALID_RESPONSE', `the Electrum server refused ${method}: ${answer.message.slice(0, 300)}`, {
      method,
    });
  }

  /** One request with its retries: a lost connection or a timeout is tried again on a new connection. */
  async request(method: string, params: readonly unknown[]): Promise<RpcAnswer> {
    let last: unknown;
    for (let attempt = 0; attempt < this.#attempts; attempt++) {
      if (attempt > 0) await this.#sleep(Math.min(this.#backoffMs * 2 ** (attempt - 1), MAX_BACKOFF_MS));
      try {
        return await this.#once(method, params);
      } catch (e) {
        if (!(e instanceof Retryable)) throw e;
        last = e;
      }
    }
    throw new CosignerError(
      'CHAIN_UNAVAILABLE',
      `the Electrum server did not answer ${method} (${this.#attempts} attempts): ${(last as Error).message}`,
      { method, attempts: this.#attempts },
    );
  }

  /** Closes the connection; requests on it, waiting or later fail with CHAIN_UNAVAILABLE. */
  close(): void {
    this.#closed = true;
    const connection = this.#connection;
    this.#connection = null;
    this.#opened = null;
    void connection?.then(
      (c) => this.#break(c, this.#closedError()),
      () => undefined,
    );
    for (const wake of this.#waiting.splice(0)) wake();
  }

  async #once(method: string, params: readonly unknown[]): Promise<RpcAnswer> {
    await this.#slot();
    try {
      if (this.#closed) throw this.#closedError();
      return await this.#send(await this.#connect(), method, params);
    } finally {
      this.#release();
    }
  }

  #closedError(): CosignerError {
    return new CosignerError('CHAIN_UNAVAILABLE', 'the Electrum connection was closed', { url: this.url });
  }

  #slot(): Promise<void> {
    if (this.#inFlight < this.#maxInFlight) {
      this.#inFlight++;
      return Promise.resolve();
    }
    // The slot is handed over by #release (#inFlight unchanged) or by close().
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#inFlight--;
  }

  /** The open connection, or a new one after its handshake; callers at the same moment share one. */
  #connect(): Promise<Connection> {
    if (this.#opened?.broken) {
      this.#opened = null;
      this.#connection = null;
    }
    if (!this.#connection) {
      const opening = this.#open();
      this.#connection = opening;
      opening.then(
        (c) => {
          if (this.#connection === opening) this.#opened = c;
        },
        () => {
          if (this.#connection === opening) this.#connection = null;
        },
      );
    }
    return this.#connection;
  }

  async #open(): Promise<Connection> {
    const { tls, host, port } = this.#endpoint;
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = tls
        ? tlsConnect({ host, port, ...(isIP(host) ? {} : { servername: host }), ...(this.#tlsCa ? { ca: this.#tlsCa } : {}) })
        : tcpConnect({ host, port });
      const timer = this.#scheduler.setTimeout(() => {
        s.destroy();
        reject(new Retryable(`no connection within ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
      s.once(tls ? 'secureConnect' : 'connect', () => {
        this.#scheduler.clear(timer);
        resolve(s);
      });
      s.once('error', (e) => {
        this.#scheduler.clear(timer);
        reject(new Retryable(e.message));
      });
    });
    const connection: Connection = { socket, pending: new Map(), buffer: '', broken: false };
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.#onData(connection, chunk));
    socket.on('error', () => undefined); // 'close' follows and fails what is pending
    socket.on('close', () => this.#break(connection, new Retryable('the server closed the connection')));
    try {
      // The protocol's first message (Electrum protocol 1.4 "server.version").
      const hello = await this.#send(connection, 'server.version', [CLIENT_NAME, PROTOCOL_VERSION]);
      if (!hello.ok) throw this.#invalid(`the server refused protocol ${PROTOCOL_VERSION}: ${hello.message.slice(0, 200)}`);
      if (!z.tuple([z.string().max(200), z.string().max(20)]).safeParse(hello.result).success) {
        throw this.#invalid('the answer to server.version is not [software, protocol]');
      }
    } catch (e) {
      this.#break(connection, e as Error);
      throw e;
    }
    if (this.#closed) {
      this.#break(connection, this.#closedError());
      throw this.#closedError();
    }
    return connection;
  }

  #send(connection: Connection, method: string, params: readonly unknown[]): Promise<RpcAnswer> {
    if (connection.broken) return Promise.reject(new Retryable('the connection was lost'));
    const id = this.#nextId++;
    return new Promise<RpcAnswer>((resolve, reject) => {
      // A server that stops answering one request is taken as stuck: the connection is dropped, and
      // the requests on it are tried again on a new one.
      const timer = this.#scheduler.setTimeout(() => {
        this.#break(connection, new Retryable(`no answer to ${method} within ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
      connection.pending.set(id, { resolve, reject, timer });
      connection.socket.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    });
  }

  #onData(connection: Connection, chunk: string): void {
    if (connection.broken) return;
    // The buffer is searched for a line's end only when one arrives: a long answer in many chunks
    // is not scanned again at each of them.
    const ended = chunk.includes('\n');
    connection.buffer += chunk;
    for (let end = ended ? connection.buffer.indexOf('\n') : -1; end >= 0; end = connection.buffer.indexOf('\n')) {
      const line = connection.buffer.slice(0, end);
      connection.buffer = connection.buffer.slice(end + 1);
      if (line.length > this.#maxLineChars) return this.#break(connection, this.#invalid('a line longer than the limit'));
      this.#onLine(connection, line);
      if (connection.broken) return;
    }
    if (connection.buffer.length > this.#maxLineChars) this.#break(connection, this.#invalid('a line longer than the limit'));
  }

  #onLine(connection: Connection, line: string): void {
    if (line.trim() === '') return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      return this.#break(connection, this.#invalid('a line that is not JSON'));
    }
    // A notification (blockchain.headers.subscribe's new tips) carries a method and no id.
    if (typeof json === 'object' && json !== null && 'method' in json && !('id' in json && (json as { id: unknown }).id !== null)) return;
    const parsed = RpcResponse.safeParse(json);
    if (!parsed.success) return this.#break(connection, this.#invalid('a line that is not a JSON-RPC answer'));
    const pending = connection.pending.get(parsed.data.id);
    if (!pending) return;
    connection.pending.delete(parsed.data.id);
    this.#scheduler.clear(pending.timer);
    pending.resolve('error' in parsed.data ? { ok: false, message: parsed.data.error.message } : { ok: true, result: parsed.data.result });
  }

  /** Ends the connection; its pending requests fail with `error` (retried when Retryable). */
  #break(connection: Connection, error: Error): void {
    if (!connection.broken) {
      connection.broken = true;
      connection.socket.destroy();
      connection.buffer = '';
    }
    for (const [id, pending] of connection.pending) {
      connection.pending.delete(id);
      this.#scheduler.clear(pending.timer);
      pending.reject(error);
    }
  }

  #invalid(what: string): CosignerError {
    return new CosignerError('CHAIN_INVALID_RESPONSE', `the Electrum server sent ${what}`, { url: this.url });
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.#scheduler.setTimeout(resolve, ms));
  }
}
