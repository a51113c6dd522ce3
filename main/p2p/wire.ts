/**
 * The Cosigner wire protocol: protocol ids, the frame envelope and a frame channel over a libp2p 3
 * message stream. Frames are varint-length-prefixed (the @libp2p/utils lp helpers) with a hard
 * maximum; the body is a small binary envelope decoded strictly against the schema below, so every
 * input either decodes or yields one typed reject reason.
 *
 *   frame    := version u8 (=1) | type u8 | body
 *   DELIVER  (0x01) := kind u8 (0 announcement, 1 session-message) | payload (1..MAX_PAYLOAD_BYTES)
 *   ACK      (0x02) := (empty)
 *   NACK     (0x03) := reason u8 (1 rate-limited, 2 not-ready)
 *   CARD     (0x10) := signer card bytes
 */
import { lpStream } from '@libp2p/utils';
import type { LengthPrefixedStream } from '@libp2p/utils';
import type { Stream } from '@libp2p/interface';
import type { FrameKind } from '../session/ports.ts';
import { ByteReader, ByteWriter } from '../encoding/bytes.ts';
import { MAX_CARD_BYTES } from './signer-card.ts';
import { isCosignerError } from '../errors.ts';

export const SESSION_PROTOCOL = '/cosigner/session/1.0.0';
export const CARD_PROTOCOL = '/cosigner/card/1.0.0';
export const DHT_PROTOCOL = '/cosigner/kad/1.0.0';
export const WIRE_VERSION = 1;
/** Largest coordinator frame the transport carries (a PSBT-bearing announcement must fit). */
export const MAX_PAYLOAD_BYTES = 256 * 1024;
/** Largest length-prefixed frame accepted on any Cosigner stream. */
export const MAX_FRAME_BYTES = MAX_PAYLOAD_BYTES + 3;

const TYPE_DELIVER = 0x01;
const TYPE_ACK = 0x02;
const TYPE_NACK = 0x03;
const TYPE_CARD = 0x10;

export type NackReason = 'rate-limited' | 'not-ready';
const NACK_CODES: Record<NackReason, number> = { 'rate-limited': 1, 'not-ready': 2 };

export type WireMessage =
  | { type: 'deliver'; kind: FrameKind; payload: Uint8Array }
  | { type: 'ack' }
  | { type: 'nack'; reason: NackReason }
  | { type: 'card'; card: Uint8Array };

/** Why an inbound frame or stream was refused; each one has its own counter in the node status. */
export const REJECT_REASONS = [
  'oversized',
  'malformed',
  'unsupported-version',
  'unknown-type',
  'unexpected-type',
  'bad-card',
  'rate-limited',
  'timeout',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export type DecodeResult = { ok: true; message: WireMessage } | { ok: false; reason: RejectReason };

export function encodeMessage(message: WireMessage): Uint8Array {
  const w = new ByteWriter('wire frame').u8(WIRE_VERSION, 'version');
  switch (message.type) {
    case 'deliver':
      return w
        .u8(TYPE_DELIVER, 'type')
        .u8(message.kind === 'announcement' ? 0 : 1, 'kind')
        .raw(message.payload, 'payload')
        .finish();
    case 'ack':
      return w.u8(TYPE_ACK, 'type').finish();
    case 'nack':
      return w.u8(TYPE_NACK, 'type').u8(NACK_CODES[message.reason], 'reason').finish();
    case 'card':
      return w.u8(TYPE_CARD, 'type').raw(message.card, 'card').finish();
  }
}

export function decodeMessage(frame: Uint8Array): DecodeResult {
  if (frame.length > MAX_FRAME_BYTES) return { ok: false, reason: 'oversized' };
  try {
    const r: ByteReader = new ByteReader(frame, 'wire frame');
    const version = r.u8('version');
    if (version !== WIRE_VERSION) return { ok: false, reason: 'unsupported-version' };
    const type = r.u8('type');
    switch (type) {
      case TYPE_DELIVER: {
        const kindByte = r.u8('kind');
        if (kindByte > 1) return { ok: false, reason: 'malformed' };
        const payload = r.rest('payload');
        if (payload.length === 0 || payload.length > MAX_PAYLOAD_BYTES) return { ok: false, reason: 'malformed' };
        return { ok: true, message: { type: 'deliver', kind: kindByte === 0 ? 'announcement' : 'session-message', payload } };
      }
      case TYPE_ACK:
        r.end();
        return { ok: true, message: { type: 'ack' } };
      case TYPE_NACK: {
        const code = r.u8('reason');
        r.end();
        const reason = (Object.keys(NACK_CODES) as NackReason[]).find((k) => NACK_CODES[k] === code);
        return reason === undefined ? { ok: false, reason: 'malformed' } : { ok: true, message: { type: 'nack', reason } };
      }
      case TYPE_CARD: {
        const card = r.rest('card');
        if (card.length === 0 || card.length > MAX_CARD_BYTES) return { ok: false, reason: 'malformed' };
        return { ok: true, message: { type: 'card', card } };
      }
      default:
        return { ok: false, reason: 'unknown-type' };
    }
  } catch (err) {
    if (isCosignerError(err, 'MALFORMED_MESSAGE')) return { ok: false, reason: 'malformed' };
    throw err;
  }
}

export type ReadResult =
  | { status: 'message'; message: WireMessage }
  | { status: 'rejected'; reason: RejectReason }
  /** The remote closed or reset the stream: not the peer's fault worth a strike. */
  | { status: 'end' };

/** Bytes of the unsigned varint length prefix of a frame of `length` bytes. */
function varintLength(length: number): number {
  let bytes = 1;
  for (let rest = length; rest >= 0x80; rest = Math.floor(rest / 0x80)) bytes += 1;
  return bytes;
}

/** Length-prefixed frames over one stream, bounded in size and in time. */
export class FrameChannel {
  readonly stream: Stream;
  readonly #lp: LengthPrefixedStream<Stream>;
  /** Bytes received, and bytes of whole frames read (each with its length prefix). */
  #received = 0;
  #consumed = 0;

  constructor(stream: Stream, maxFrameBytes: number = MAX_FRAME_BYTES) {
    this.stream = stream;
    // The byte buffer is bounded too: a peer cannot park more than one frame's worth in memory.
    this.#lp = lpStream(stream, { maxDataLength: maxFrameBytes, maxBufferSize: maxFrameBytes + 16 });
    stream.maxReadBufferLength = maxFrameBytes + 16;
    stream.addEventListener('message', (evt) => {
      this.#received += evt.data.byteLength;
    });
  }

  /** Part of a frame has arrived and not the rest: a stream that stops here is stalling, not idle. */
  get midFrame(): boolean {
    return this.#received > this.#consumed;
  }

  async read(timeoutMs: number): Promise<ReadResult> {
    const signal = AbortSignal.timeout(timeoutMs);
    let frame: Uint8Array;
    try {
      // A fresh Uint8Array: the lp reader hands out Node Buffers, whose slice() shares memory.
      frame = Uint8Array.from((await this.#lp.read({ signal })).subarray());
      this.#consumed += varintLength(frame.length) + frame.length;
    } catch (err) {
      if (signal.aborted) return { status: 'rejected', reason: 'timeout' };
      const name = (err as Error | undefined)?.name;
      if (name === 'InvalidDataLengthError' || name === 'InvalidDataLengthLengthError' || name === 'StreamBufferError') {
        return { status: 'rejected', reason: 'oversized' };
      }
      if (name === 'InvalidMessageLengthError') return { status: 'rejected', reason: 'malformed' };
      return { status: 'end' };
    }
    const decoded = decodeMessage(frame);
    return decoded.ok ? { status: 'message', message: decoded.message } : { status: 'rejected', reason: decoded.reason };
  }

  async write(message: WireMessage, timeoutMs: number): Promise<void> {
    await this.#lp.write(encodeMessage(message), { signal: AbortSignal.timeout(timeoutMs) });
  }

  /** Graceful close; falls back to a reset when the remote does not cooperate in time. */
  async close(timeoutMs: number): Promise<void> {
    try {
      await this.stream.close({ signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      this.stream.abort(err instanceof Error ? err : new Error('close failed'));
    }
  }

  abort(reason: string): void {
    this.stream.abort(new Error(reason));
  }
}
