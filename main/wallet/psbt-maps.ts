/**
 * The BIP174/BIP370 key-value framing of a PSBT, read without interpreting any field: what the BIP373
 * layer needs to find and check its own entries, with a reason naming the map, before
 * @scure/btc-signer (the PSBT engine) parses the whole. And written back the same way, for the
 * writers that change a few fields without the engine's re-validation of every input at each update.
 */
import { concatBytes } from '@noble/hashes/utils.js';
import { CompactSize, RawOldTx } from '@scure/btc-signer/script.js';
import { CosignerError } from '../errors.ts';

export interface PsbtEntry {
  readonly keyType: number;
  readonly keyData: Uint8Array;
  readonly value: Uint8Array;
}

export interface PsbtMaps {
  readonly version: 0 | 2;
  readonly global: readonly PsbtEntry[];
  readonly inputs: readonly (readonly PsbtEntry[])[];
  readonly outputs: readonly (readonly PsbtEntry[])[];
}

/** "psbt" 0xff: BIP174's magic, the first bytes of every PSBT. */
export const PSBT_MAGIC: readonly number[] = Object.freeze([0x70, 0x73, 0x62, 0x74, 0xff]);
/** The separator that ends every map. */
const MAP_END = Uint8Array.of(0);
const GLOBAL_UNSIGNED_TX = 0x00;
const GLOBAL_INPUT_COUNT = 0x04;
const GLOBAL_OUTPUT_COUNT = 0x05;
const GLOBAL_VERSION = 0xfb;

function invalid(message: string, context: Record<string, string | number> = {}): CosignerError {
  return new CosignerError('INVALID_PSBT', message, context);
}

class Reader {
  #at = 0;
  readonly #bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }
  get done(): boolean {
    return this.#at === this.#bytes.length;
  }
  bytes(length: number): Uint8Array {
    if (length > this.#bytes.length - this.#at) throw invalid('the PSBT ends in the middle of a field', { offset: this.#at });
    const out = this.#bytes.subarray(this.#at, this.#at + length);
    this.#at += length;
    return out;
  }
  rest(): Uint8Array {
    return this.bytes(this.#bytes.length - this.#at);
  }
  /** A canonical (shortest-form) compact size, within the safe integer range. */
  compactSize(): number {
    const first = this.bytes(1)[0] as number;
    if (first < 0xfd) return first;
    const width = first === 0xfd ? 2 : first === 0xfe ? 4 : 8;
    const raw = this.bytes(width);
    let value = 0;
    for (let i = width - 1; i >= 0; i--) value = value * 256 + (raw[i] as number);
    const min = width === 2 ? 0xfd : width === 4 ? 0x1_0000 : 0x1_0000_0000;
    if (value < min || !Number.isSafeInteger(value)) throw invalid('a compact size is not in its shortest form', { offset: this.#at });
    return value;
  }
}

function readMap(reader: Reader, where: string): PsbtEntry[] {
  const entries: PsbtEntry[] = [];
  const seen = new Set<string>();
  for (;;) {
    const keyLength = reader.compactSize();
    if (keyLength === 0) return entries;
    const key = new Reader(reader.bytes(keyLength));
    const keyType = key.compactSize();
    const keyData = key.rest();
    const value = reader.bytes(reader.compactSize());
    const id = `${keyType}:${hexOf(keyData)}`;
    if (seen.has(id)) throw invalid(`${where} has the same key twice`, { keyType });
    seen.add(id);
    entries.push({ keyType, keyData: keyData.slice(), value: value.slice() });
  }
}

function hexOf(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

function single(map: readonly PsbtEntry[], keyType: number): PsbtEntry | undefined {
  return map.find((e) => e.keyType === keyType && e.keyData.length === 0);
}

function countOf(map: readonly PsbtEntry[], keyType: number, name: string): number {
  const entry = single(map, keyType);
  if (!entry) throw invalid(`PSBTv2 without ${name}`);
  const reader = new Reader(entry.value);
  const count = reader.compactSize();
  if (!reader.done) throw invalid(`${name} has trailing bytes`);
  return count;
}

/** Splits a PSBT into its global, input and output maps (v0 and v2), checking only the framing. */
export function readPsbtMaps(psbt: Uint8Array): PsbtMaps {
  if (!(psbt instanceof Uint8Array) || psbt.length < PSBT_MAGIC.length || PSBT_MAGIC.some((b, i) => psbt[i] !== b)) {
    throw invalid('not a PSBT: it does not start with the magic bytes "psbt\\xff"');
  }
  const reader = new Reader(psbt.subarray(PSBT_MAGIC.length));
  const global = readMap(reader, 'the global map');
  const versionEntry = single(global, GLOBAL_VERSION);
  const version = versionEntry ? new DataView(versionEntry.value.buffer, versionEntry.value.byteOffset).getUint32(0, true) : 0;
  if (versionEntry && versionEntry.value.length !== 4) throw invalid('PSBT_GLOBAL_VERSION is not 4 bytes');
  if (version !== 0 && version !== 2) {
    throw new CosignerError('UNSUPPORTED_VERSION', `PSBT version ${version} is not supported (0 and 2 are)`, { version });
  }
  let inputCount: number;
  let outputCount: number;
  if (version === 0) {
    const unsigned = single(global, GLOBAL_UNSIGNED_TX);
    if (!unsigned) throw invalid('PSBTv0 without its unsigned transaction');
    let tx: ReturnType<typeof RawOldTx.decode>;
    try {
      tx = RawOldTx.decode(unsigned.value);
    } catch (e) {
      throw new CosignerError('INVALID_PSBT', 'the unsigned transaction cannot be read', {}, { cause: e });
    }
    inputCount = tx.inputs.length;
    outputCount = tx.outputs.length;
  } else {
    inputCount = countOf(global, GLOBAL_INPUT_COUNT, 'PSBT_GLOBAL_INPUT_COUNT');
    outputCount = countOf(global, GLOBAL_OUTPUT_COUNT, 'PSBT_GLOBAL_OUTPUT_COUNT');
  }
  const inputs: PsbtEntry[][] = [];
  for (let i = 0; i < inputCount; i++) inputs.push(readMap(reader, `input ${i}`));
  const outputs: PsbtEntry[][] = [];
  for (let i = 0; i < outputCount; i++) outputs.push(readMap(reader, `output ${i}`));
  if (!reader.done) throw invalid('bytes follow the last output map');
  return { version, global, inputs, outputs };
}

/** One key-value pair, framed: <keylen> <keytype> <keydata> <valuelen> <value>. */
export function writePsbtEntry({ keyType, keyData, value }: PsbtEntry): Uint8Array {
  const type = CompactSize.encode(BigInt(keyType));
  return concatBytes(
    CompactSize.encode(BigInt(type.length + keyData.length)),
    type,
    keyData,
    CompactSize.encode(BigInt(value.length)),
    value,
  );
}

/** A map's entries exactly as given (no sorting, no checks), then its 0x00 separator. */
export function writePsbtMap(entries: readonly PsbtEntry[]): Uint8Array {
  return concatBytes(...entries.map(writePsbtEntry), MAP_END);
}

/** A PSBT from its maps, each written as given: the inverse of readPsbtMaps. */
export function writePsbtMaps(maps: Pick<PsbtMaps, 'global' | 'inputs' | 'outputs'>): Uint8Array {
  return concatBytes(
    Uint8Array.from(PSBT_MAGIC),
    writePsbtMap(maps.global),
    ...maps.inputs.map(writePsbtMap),
    ...maps.outputs.map(writePsbtMap),
  );
}
