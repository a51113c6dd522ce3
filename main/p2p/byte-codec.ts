/**
 * Minimal strict binary reader/writer for the p2p encodings (wire envelope, signer card, inbox record).
 * Every read is bounds-checked and throws MALFORMED_MESSAGE, so decoders never read past the input
 * and never allocate more than the input holds.
 */
import { CosignerError } from '../errors.ts';

export class ByteWriter {
  readonly #parts: Uint8Array[] = [];
  #length = 0;

  u8(value: number): this {
    return this.bytes(Uint8Array.of(value));
  }

  u32(value: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, value);
    return this.bytes(b);
  }

  u64(value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) throw new CosignerError('INVALID_INPUT', 'u64 out of range', { value });
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(value));
    return this.bytes(b);
  }

  bytes(value: Uint8Array): this {
    this.#parts.push(value);
    this.#length += value.length;
    return this;
  }

  /** u8 length prefix then the bytes. */
  short(value: Uint8Array): this {
    if (value.length > 0xff) throw new CosignerError('INVALID_INPUT', 'field longer than 255 bytes', { length: value.length });
    return this.u8(value.length).bytes(value);
  }

  /** u32 length prefix then the bytes. */
  long(value: Uint8Array): this {
    return this.u32(value.length).bytes(value);
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.#length);
    let offset = 0;
    for (const part of this.#parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
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

  u8(): number {
    return this.bytes(1)[0] as number;
  }

  u32(): number {
    const b = this.bytes(4);
    return new DataView(b.buffer, b.byteOffset, 4).getUint32(0);
  }

  u64(): number {
    const b = this.bytes(8);
    const value = new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) this.fail('u64 above the safe integer range');
    return Number(value);
  }

  bytes(length: number): Uint8Array {
    if (length > this.remaining) this.fail('truncated');
    const out = this.#bytes.subarray(this.#offset, this.#offset + length);
    this.#offset += length;
    return out;
  }

  short(max: number): Uint8Array {
    const length = this.u8();
    if (length > max) this.fail('field too long');
    return this.bytes(length);
  }

  long(max: number): Uint8Array {
    const length = this.u32();
    if (length > max) this.fail('field too long');
    return this.bytes(length);
  }

  rest(): Uint8Array {
    return this.bytes(this.remaining);
  }

  end(): void {
    if (this.remaining !== 0) this.fail('trailing bytes');
  }

  fail(reason: string): never {
    throw new CosignerError('MALFORMED_MESSAGE', `${this.#what}: ${reason}`, { what: this.#what, offset: this.#offset });
  }
}
