import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter } from '../../../main/encoding/bytes.ts';
import type { LengthBounds } from '../../../main/encoding/bytes.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const reader = (...bytes: number[]) => new ByteReader(Uint8Array.from(bytes), 'test record');

/** The thrown error's code and context, or 'no error'. */
function thrown(fn: () => unknown): { code: string; message: string; context: Record<string, unknown> } | 'no error' {
  try {
    fn();
  } catch (e) {
    const err = e as { code: string; message: string; context: Record<string, unknown> };
    return { code: err.code, message: err.message, context: err.context };
  }
  return 'no error';
}
const codeOf = (fn: () => unknown) => {
  const t = thrown(fn);
  return t === 'no error' ? t : t.code;
};

const SHORT: LengthBounds = { prefix: 'u8', max: 10 };
const LONG: LengthBounds = { prefix: 'u32', min: 1, max: 300 };

describe('ByteWriter', () => {
  it('writes integers big-endian at their width', () => {
    const out = new ByteWriter('t')
      .u8(0xab, 'a')
      .u16(0x1234, 'b')
      .u32(0xdeadbeef, 'c')
      .u64(Number.MAX_SAFE_INTEGER, 'd')
      .u64(0x0102_0304_0506, 'e')
      .finish();
    expect(hex(out)).toBe('ab1234deadbeef001fffffffffffff0000010203040506');
  });

  it('writes fixed, raw, length-prefixed bytes and UTF-8 text', () => {
    const out = new ByteWriter('t')
      .fixed(Uint8Array.of(1, 2), 2, 'f')
      .raw(Uint8Array.of(3), 'r')
      .bytes(Uint8Array.of(4, 5), 's', SHORT)
      .bytes(Uint8Array.of(6), 'l', LONG)
      .string('é', 'x', { prefix: 'u16', max: 4 })
      .finish();
    expect(hex(out)).toBe('010203' + '020405' + '0000000106' + '0002c3a9');
  });

  it.each([
    ['u8 256', (w: ByteWriter) => w.u8(256, 'f')],
    ['u8 -1', (w: ByteWriter) => w.u8(-1, 'f')],
    ['u8 1.5', (w: ByteWriter) => w.u8(1.5, 'f')],
    ['u8 NaN', (w: ByteWriter) => w.u8(Number.NaN, 'f')],
    ['u8 above its max', (w: ByteWriter) => w.u8(9, 'f', 8)],
    ['u16 65536', (w: ByteWriter) => w.u16(0x1_0000, 'f')],
    ['u32 2^32', (w: ByteWriter) => w.u32(2 ** 32, 'f')],
    ['u32 -1', (w: ByteWriter) => w.u32(-1, 'f')],
    ['u32 0.5', (w: ByteWriter) => w.u32(0.5, 'f')],
    ['u64 2^53', (w: ByteWriter) => w.u64(2 ** 53, 'f')],
    ['u64 -1', (w: ByteWriter) => w.u64(-1, 'f')],
    ['u64 Infinity', (w: ByteWriter) => w.u64(Number.POSITIVE_INFINITY, 'f')],
    ['u64 a string', (w: ByteWriter) => w.u64('1' as unknown as number, 'f')],
    ['fixed of the wrong length', (w: ByteWriter) => w.fixed(new Uint8Array(3), 2, 'f')],
    ['fixed not bytes', (w: ByteWriter) => w.fixed([1, 2] as unknown as Uint8Array, 2, 'f')],
    ['raw not bytes', (w: ByteWriter) => w.raw('ab' as unknown as Uint8Array, 'f')],
    ['bytes over max', (w: ByteWriter) => w.bytes(new Uint8Array(11), 'f', SHORT)],
    ['bytes under min', (w: ByteWriter) => w.bytes(new Uint8Array(0), 'f', LONG)],
    ['bytes longer than a u8 prefix holds', (w: ByteWriter) => w.bytes(new Uint8Array(256), 'f', { prefix: 'u8', max: 1000 })],
    ['text over max', (w: ByteWriter) => w.string('é'.repeat(6), 'f', SHORT)],
    ['text with a lone surrogate', (w: ByteWriter) => w.string('a\ud800', 'f', SHORT)],
    ['text not a string', (w: ByteWriter) => w.string(5 as unknown as string, 'f', SHORT)],
  ])('refuses %s with INVALID_INPUT naming the record and field', (_name, write) => {
    const w = new ByteWriter('test record');
    const t = thrown(() => write(w));
    expect(t).toMatchObject({ code: 'INVALID_INPUT', context: { what: 'test record', field: 'f' } });
    expect(t !== 'no error' && t.message).toMatch(/^test record: f /);
    expect(w.length).toBe(0);
  });

  it('accepts every bound exactly', () => {
    const w = new ByteWriter('t')
      .u8(255, 'a')
      .u8(8, 'a', 8)
      .u16(0xffff, 'b')
      .u32(2 ** 32 - 1, 'c')
      .u64(0, 'd')
      .bytes(new Uint8Array(10), 'e', SHORT)
      .bytes(new Uint8Array(1), 'f', LONG)
      .bytes(new Uint8Array(255), 'g', { prefix: 'u8', max: 1000 });
    expect(w.length).toBe(1 + 1 + 2 + 4 + 8 + 11 + 5 + 256);
  });

  it('refuses to outgrow its maximum with OVERSIZED_MESSAGE', () => {
    const w = new ByteWriter('frame', 6).u32(1, 'a').u8(1, 'b');
    expect(thrown(() => w.raw(new Uint8Array(2), 'c'))).toMatchObject({ code: 'OVERSIZED_MESSAGE', context: { what: 'frame', max: 6 } });
    expect(hex(w.u8(2, 'd').finish())).toBe('000000010102');
  });

  it('finishes into a fresh array each time', () => {
    const w = new ByteWriter('t').u8(1, 'a');
    const first = w.finish();
    first[0] = 9;
    expect(w.finish()).toEqual(Uint8Array.of(1));
  });
});

describe('ByteReader', () => {
  it('reads what the writer wrote, and copies', () => {
    const input = new ByteWriter('t')
      .u8(7, 'a')
      .u16(513, 'b')
      .u32(2 ** 32 - 1, 'c')
      .u64(Number.MAX_SAFE_INTEGER, 'd')
      .fixed(Uint8Array.of(1, 2, 3), 3, 'e')
      .bytes(Uint8Array.of(4), 'f', LONG)
      .string('añ\u{1F600}\ufeff', 'g', { prefix: 'u8', max: 20 })
      .raw(Uint8Array.of(8, 9), 'h')
      .finish();
    const r = new ByteReader(input, 't');
    expect([r.u8('a'), r.u16('b'), r.u32('c'), r.u64('d')]).toEqual([7, 513, 2 ** 32 - 1, Number.MAX_SAFE_INTEGER]);
    const e = r.fixed(3, 'e');
    expect(e).toEqual(Uint8Array.of(1, 2, 3));
    expect(r.bytes('f', LONG)).toEqual(Uint8Array.of(4));
    expect(r.string('g', { prefix: 'u8', max: 20 })).toBe('añ\u{1F600}\ufeff');
    expect(r.remaining).toBe(2);
    expect(r.rest('h')).toEqual(Uint8Array.of(8, 9));
    r.end();
    e[0] = 0xff;
    expect(input[15]).toBe(1); // the decoded field does not alias the input
  });

  it('reads from a view at any offset of its buffer', () => {
    const buffer = Uint8Array.of(0xee, 0x00, 0x00, 0x01, 0x02, 0xee);
    expect(new ByteReader(buffer.subarray(1, 5), 't').u32('a')).toBe(0x102);
  });

  const malformed = (fn: () => unknown, field: string | undefined, offset: number) => {
    const t = thrown(fn);
    expect(t).toMatchObject({ code: 'MALFORMED_MESSAGE', context: { what: 'test record', offset } });
    expect(t !== 'no error' && t.context.field).toBe(field);
    expect(t !== 'no error' && t.message).toMatch(/^test record: /);
  };

  it('refuses truncation of every kind, naming the field and where reading stopped', () => {
    malformed(() => reader().u8('a'), 'a', 0);
    malformed(() => reader(1).u16('a'), 'a', 0);
    malformed(() => reader(1, 2, 3).u32('a'), 'a', 0);
    malformed(() => reader(0, 0, 0, 0, 0, 0, 0).u64('a'), 'a', 0);
    malformed(() => reader(1, 2).fixed(3, 'a'), 'a', 0);
    const r = reader(9, 2, 1);
    r.u8('x');
    malformed(() => r.bytes('a', SHORT), 'a', 2); // claims 2 bytes, holds 1
    malformed(() => reader(0, 0, 0, 5, 1, 2, 3, 4).bytes('a', LONG), 'a', 4);
    malformed(() => reader(0, 0, 0).bytes('a', LONG), 'a', 0); // the prefix itself is cut
  });

  it('refuses trailing bytes', () => {
    const r = reader(1, 2);
    r.u8('a');
    malformed(() => r.end(), undefined, 1);
    reader().end();
  });

  it('refuses lengths beyond their bounds before reading them', () => {
    malformed(() => reader(11, ...new Array(11).fill(0)).bytes('a', SHORT), 'a', 1);
    malformed(() => reader(0xff, 0xff, 0xff, 0xff).bytes('a', LONG), 'a', 4);
    malformed(() => reader(0, 0, 0, 0).bytes('a', LONG), 'a', 4); // under min
    malformed(() => reader(11, ...new Array(11).fill(0x61)).string('a', SHORT), 'a', 1);
    expect(reader(10, ...new Array(10).fill(0)).bytes('a', SHORT)).toHaveLength(10);
  });

  it('refuses values beyond their range', () => {
    malformed(() => reader(9).u8('a', 8), 'a', 1);
    malformed(() => reader(0x01, 0x00).u16('a', 0xff), 'a', 2);
    malformed(() => reader(0, 0, 1, 0).u32('a', 0xff), 'a', 4);
    malformed(() => reader(0x00, 0x20, 0, 0, 0, 0, 0, 0).u64('a'), 'a', 8); // 2^53
    malformed(() => reader(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff).u64('a'), 'a', 8);
    expect(reader(8).u8('a', 8)).toBe(8);
    expect(reader(0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff).u64('a')).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('refuses invalid UTF-8', () => {
    malformed(() => reader(1, 0xff).string('a', SHORT), 'a', 2);
    malformed(() => reader(2, 0xc3, 0x28).string('a', SHORT), 'a', 3);
    malformed(() => reader(3, 0xed, 0xa0, 0x80).string('a', SHORT), 'a', 4); // an encoded surrogate
  });

  it('fails with a reason of the caller', () => {
    const r = reader(1, 2);
    r.u8('a');
    malformed(() => r.fail('invalid key', 'key'), 'key', 1);
    expect(codeOf(() => r.fail('anything'))).toBe('MALFORMED_MESSAGE');
  });
});

describe('round trips', () => {
  type Op =
    | { kind: 'u8' | 'u16' | 'u32' | 'u64'; value: number }
    | { kind: 'fixed'; value: Uint8Array }
    | { kind: 'bytes'; value: Uint8Array; bounds: LengthBounds }
    | { kind: 'string'; value: string; bounds: LengthBounds };
  const prefix = fc.constantFrom('u8' as const, 'u16' as const, 'u32' as const);
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.integer({ min: 0, max: 0xff }).map((value) => ({ kind: 'u8' as const, value })),
    fc.integer({ min: 0, max: 0xffff }).map((value) => ({ kind: 'u16' as const, value })),
    fc.integer({ min: 0, max: 0xffff_ffff }).map((value) => ({ kind: 'u32' as const, value })),
    fc.maxSafeNat().map((value) => ({ kind: 'u64' as const, value })),
    fc.uint8Array({ maxLength: 40 }).map((value) => ({ kind: 'fixed' as const, value })),
    fc.record({ value: fc.uint8Array({ maxLength: 40 }), prefix }).map(({ value, prefix }) => ({
      kind: 'bytes' as const,
      value,
      bounds: { prefix, min: value.length, max: value.length + 3 },
    })),
    fc.record({ value: fc.string({ unit: 'grapheme', maxLength: 10 }), prefix }).map(({ value, prefix }) => ({
      kind: 'string' as const,
      value,
      bounds: { prefix, max: 80 },
    })),
  );

  it('reads back every sequence of fields it writes, to the last byte', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 12 }), (ops) => {
        const w = new ByteWriter('t');
        for (const o of ops) {
          if (o.kind === 'fixed') w.fixed(o.value, o.value.length, 'f');
          else if (o.kind === 'bytes') w.bytes(o.value, 'f', o.bounds);
          else if (o.kind === 'string') w.string(o.value, 'f', o.bounds);
          else w[o.kind](o.value, 'f');
        }
        const bytes = w.finish();
        expect(bytes.length).toBe(w.length);
        const r = new ByteReader(bytes, 't');
        for (const o of ops) {
          if (o.kind === 'fixed') expect(r.fixed(o.value.length, 'f')).toEqual(o.value);
          else if (o.kind === 'bytes') expect(r.bytes('f', o.bounds)).toEqual(o.value);
          else if (o.kind === 'string') expect(r.string('f', o.bounds)).toBe(o.value);
          else expect(r[o.kind]('f')).toBe(o.value);
        }
        r.end();
      }),
      { numRuns: 300 },
    );
  });

  it('never reads past its input nor throws anything but MALFORMED_MESSAGE on any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        const r = new ByteReader(bytes, 't');
        try {
          r.u8('a');
          r.bytes('b', SHORT);
          r.string('c', { prefix: 'u16', max: 20 });
          r.u64('d');
          r.end();
        } catch (e) {
          expect((e as { code?: string }).code).toBe('MALFORMED_MESSAGE');
        }
        expect(r.offset).toBeLessThanOrEqual(bytes.length);
      }),
      { numRuns: 500 },
    );
  });
});
