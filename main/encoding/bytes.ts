/**
 * Bounded big-endian reading and writing of Cosigner's binary records (session frames, the p2p wire
 * envelope, signer cards, DHT inbox records). One value has one encoding: the writer refuses what the
 * reader would reject (integers out of range, lengths beyond their bounds, text UTF-8 cannot carry
 * faithfully) and the reader refuses truncation, trailing bytes, lengths and values beyond their
 * bounds, and invalid UTF-8. A decoder built on it never reads past its input and never allocates more
 * than the input holds.
 *
 * Errors name the record (`what`) and the field: reading throws MALFORMED_MESSAGE, writing throws
 * INVALID_INPUT, or OVERSIZED_MESSAGE when a record outgrows the writer's maximum.
 */
import { CosignerError } from '../errors.ts';
import type { ErrorContext } from '../errors.ts';

export type LengthPrefix = 'u8' | 'u16' | 'u32';

/** How a variable-length field is framed: the width of its length prefix and the lengths it may have. */
export interface LengthBounds {
  readonly prefix: LengthPrefix;
  /** Fewest bytes (default 0). */
  readonly min?: number;
  readonly max: number;
}

const PREFIX_MAX: Record<LengthPrefix, number> = { u8: 0xff, u16: 0xffff, u32: 0xffff_ffff };

const utf8Encoder = new TextEncoder();
/** ignoreBOM keeps a leading U+FEFF as text, so the decoded string re-encodes to the same bytes. */
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
/** TextEncoder would silently turn a lone surrogate into U+FFFD, so such text has no faithful encoding. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Parts are kept by reference until `finish()` copies them out: do not change them in between. */
export class ByteWriter {
  readonly #what: string;
  readonly #maxBytes: number;
  readonly #parts: Uint8Array[] = [];
  #length = 0;

  /** `maxBytes` bounds the whole record; writing past it throws OVERSIZED_MESSAGE. */
  constructor(what: string, maxBytes: number = Number.MAX_SAFE_INTEGER) {
    this.#what = what;
    this.#maxBytes = maxBytes;
  }

  get length(): number {
    return this.#length;
  }

  /** `max` narrows the range (a count of at most so many elements). */
  u8(value: number, field: string, max: number = PREFIX_MAX.u8): this {
    return this.#uint(value, 1, Math.min(max, PREFIX_MAX.u8), field);
  }

  u16(value: number, field: string, max: number = PREFIX_MAX.u16): this {
    return this.#uint(value, 2, Math.min(max, PREFIX_MAX.u16), field);
  }

  u32(value: number, field: string, max: number = PREFIX_MAX.u32): this {
    return this.#uint(value, 4, Math.min(max, PREFIX_MAX.u32), field);
  }

  /** Only safe integers, so every value read back is exactly a JS number. */
  u64(value: number, field: string): this {
    return this.#uint(value, 8, Number.MAX_SAFE_INTEGER, field);
  }

  /** Exactly `length` bytes, unprefixed. */
  fixed(value: Uint8Array, length: number, field: string): this {
    if (!(value instanceof Uint8Array) || value.length !== length) this.#invalid(`${field} must be ${length} bytes`, field);
    return this.#push(value);
  }

  /** Bytes of any length, unprefixed: the tail of a record, or a part encoded elsewhere. */
  raw(value: Uint8Array, field: string): this {
    if (!(value instanceof Uint8Array)) this.#invalid(`${field} must be bytes`, field);
    return this.#push(value);
  }

  /** A length prefix, then the bytes. */
  bytes(value: Uint8Array, field: string, bounds: LengthBounds): this {
    const min = bounds.min ?? 0;
    if (!(value instanceof Uint8Array) || value.length < min || value.length > bounds.max) {
      this.#invalid(`${field} must be ${min}..${bounds.max} bytes`, field);
    }
    this.#uint(value.length, prefixWidth(bounds.prefix), PREFIX_MAX[bounds.prefix], field);
    return this.#push(value);
  }

  /** UTF-8 as `bytes`; no normalization, and text with a lone surrogate is refused. */
  string(value: string, field: string, bounds: LengthBounds): this {
    if (typeof value !== 'string' || LONE_SURROGATE.test(value)) this.#invalid(`${field} must be well-formed text`, field);
    return this.bytes(utf8Encoder.encode(value), field, bounds);
  }

  /** The record so far, in one fresh array. */
  finish(): Uint8Array {
    const out = new Uint8Array(this.#length);
    let offset = 0;
    for (const part of this.#parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }

  #uint(value: number, width: 1 | 2 | 4 | 8, max: number, field: string): this {
    if (!Number.isSafeInteger(value) || value < 0 || value > max) {
      this.#invalid(`${field} must be an integer within 0..${max}`, field, typeof value === 'number' ? { value } : {});
    }
    const out = new Uint8Array(width);
    // Byte by byte from the low end: exact for every safe integer, whatever the width.
    for (let i = width - 1, v = value; i >= 0; i--, v = Math.floor(v / 256)) out[i] = v % 256;
    return this.#push(out);
  }

  #push(part: Uint8Array): this {
    if (this.#length + part.length > this.#maxBytes) {
      throw new CosignerError('OVERSIZED_MESSAGE', `${this.#what} exceeds ${this.#maxBytes} bytes`, {
        what: this.#what,
        max: this.#maxBytes,
      });
    }
    this.#parts.push(part);
    this.#length += part.length;
    return this;
  }

  #invalid(message: string, field: string, context: ErrorContext = {}): never {
    throw new CosignerError('INVALID_INPUT', `${this.#what}: ${message}`, { what: this.#what, field, ...context });
  }
}

export class ByteReader {
  readonly #bytes: Uint8Array;
  readonly #what: string;
  #offset = 0;

  constructor(bytes: Uint8Array, what: string) {
    this.#bytes = bytes;
    this.#what = what;
  }

  get offset(): number {
    return this.#offset;
  }

  get remaining(): number {
    return this.#bytes.length - this.#offset;
  }

  /** `max` narrows the range (a count of at most so many elements). */
  u8(field: string, max: number = PREFIX_MAX.u8): number {
    return this.#uint(1, max, field);
  }

  u16(field: string, max: number = PREFIX_MAX.u16): number {
    return this.#uint(2, max, field);
  }

  u32(field: string, max: number = PREFIX_MAX.u32): number {
    return this.#uint(4, max, field);
  }

  /** Above 2^53 − 1 is refused: a JS number could not hold it exactly. */
  u64(field: string): number {
    return this.#uint(8, Number.MAX_SAFE_INTEGER, field);
  }

  /** Exactly `length` bytes, copied: what is read never aliases the input. */
  fixed(length: number, field: string): Uint8Array {
    if (length > this.remaining) this.fail(`${field} truncated`, field);
    const out = new Uint8Array(this.#bytes.subarray(this.#offset, this.#offset + length));
    this.#offset += length;
    return out;
  }

  /** Every byte left. */
  rest(field: string): Uint8Array {
    return this.fixed(this.remaining, field);
  }

  /** A length prefix within `bounds`, then that many bytes. */
  bytes(field: string, bounds: LengthBounds): Uint8Array {
    const min = bounds.min ?? 0;
    const length = this.#uint(prefixWidth(bounds.prefix), PREFIX_MAX[bounds.prefix], field);
    if (length < min || length > bounds.max) this.fail(`${field} must be ${min}..${bounds.max} bytes, not ${length}`, field);
    return this.fixed(length, field);
  }

  /** `bytes` holding valid UTF-8. */
  string(field: string, bounds: LengthBounds): string {
    const raw = this.bytes(field, bounds);
    try {
      return utf8Decoder.decode(raw);
    } catch {
      return this.fail(`${field} is not valid UTF-8`, field);
    }
  }

  end(): void {
    if (this.remaining !== 0) this.fail(`${this.remaining} trailing bytes`);
  }

  /** Throws MALFORMED_MESSAGE naming the record, the field and where reading stopped. */
  fail(reason: string, field?: string): never {
    const context: ErrorContext = { what: this.#what, offset: this.#offset };
    if (field !== undefined) context.field = field;
    throw new CosignerError('MALFORMED_MESSAGE', `${this.#what}: ${reason}`, context);
  }

  #uint(width: 1 | 2 | 4 | 8, max: number, field: string): number {
    const raw = this.fixed(width, field);
    let value = 0;
    // Exact up to 2^53; beyond, the value is only compared against max, which is then exceeded anyway.
    for (const byte of raw) value = value * 256 + byte;
    if (value > max) this.fail(`${field} exceeds ${max}`, field);
    return value;
  }
}

function prefixWidth(prefix: LengthPrefix): 1 | 2 | 4 {
  return prefix === 'u8' ? 1 : prefix === 'u16' ? 2 : 4;
}
