/**
 * The group section of an announcement (tweak 2, docs/PROTOCOL.md §Group path): one encoding per
 * value, legacy announcements byte for byte as before, and nothing decoded that the encoder could
 * not have written.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { appendSignature, decodeFrame, encodeAnnouncementBody, type AnnouncementBody } from '../../../main/session/codec.ts';
import type { SpendPath } from '../../../main/wallet/spend-path.ts';
import { body, errorCode } from '../../support/session-fixtures.ts';

const ID = new Uint8Array(32).fill(0xab);
const withPath = (path: SpendPath, overrides: Partial<AnnouncementBody> = {}): AnnouncementBody =>
  body({ tweak: 'path', group: { id: ID, path }, ...overrides });
const decode = (signed: Uint8Array) => decodeFrame(appendSignature(signed, new Uint8Array(64)));

/** Byte offset of the tweak byte: version, type, count, the keys, creator index. */
const tweakAt = (b: AnnouncementBody) => 3 + 33 * b.signers.length + 1;

describe('the group section of an announcement', () => {
  it.each<[string, SpendPath, string]>([
    ['the key path', { kind: 'key' }, '00'],
    ['leaf 0', { kind: 'leaf', leaf: 0 }, '0100'],
    ['leaf 255', { kind: 'leaf', leaf: 255 }, '01ff'],
  ])('%s follows the tweak byte 02 as the 32-byte id, the kind byte and a leaf’s index', (_, path, tail) => {
    const b = withPath(path);
    const signed = encodeAnnouncementBody(b);
    const at = tweakAt(b);
    expect(bytesToHex(signed.subarray(at, at + 1 + 32 + tail.length / 2))).toBe(`02${bytesToHex(ID)}${tail}`);
    // The rest is the legacy layout from createdAt on.
    const legacy = encodeAnnouncementBody(body());
    expect(bytesToHex(signed.subarray(at + 33 + tail.length / 2))).toBe(bytesToHex(legacy.subarray(at + 1)));
    const decoded = decode(signed);
    expect(decoded.type === 'announcement' && decoded.body).toEqual(b);
  });

  it('leaves a legacy announcement without a group key, and its bytes as they were', () => {
    const decoded = decode(encodeAnnouncementBody(body()));
    expect(decoded.type === 'announcement' && 'group' in decoded.body).toBe(false);
  });

  it('is refused by the encoder where it does not belong, or is missing, or names no valid path', () => {
    expect(errorCode(() => encodeAnnouncementBody(body({ tweak: 'path' })))).toBe('INVALID_INPUT');
    expect(errorCode(() => encodeAnnouncementBody(body({ group: { id: ID, path: { kind: 'key' } } })))).toBe('INVALID_INPUT');
    expect(errorCode(() => encodeAnnouncementBody(withPath({ kind: 'leaf', leaf: 256 })))).toBe('INVALID_INPUT');
    expect(errorCode(() => encodeAnnouncementBody(withPath({ kind: 'leaf', leaf: 1.5 })))).toBe('INVALID_INPUT');
    expect(errorCode(() => encodeAnnouncementBody(withPath({ kind: 'script' } as never)))).toBe('INVALID_INPUT');
    expect(errorCode(() => encodeAnnouncementBody(body({ tweak: 'path', group: { id: ID.subarray(1), path: { kind: 'key' } } })))).toBe(
      'INVALID_INPUT',
    );
  });

  it('is refused by the decoder with an unknown path kind, a key path followed by an index, or cut short', () => {
    const b = withPath({ kind: 'key' });
    const signed = encodeAnnouncementBody(b);
    const kindAt = tweakAt(b) + 33;
    const unknown = signed.slice();
    unknown[kindAt] = 2;
    expect(errorCode(() => decode(unknown))).toBe('MALFORMED_MESSAGE');
    // A key path with a stray index byte shifts every later field: never read as the same request.
    const stray = Uint8Array.from([...signed.subarray(0, kindAt + 1), 0, ...signed.subarray(kindAt + 1)]);
    expect(errorCode(() => decode(stray))).toBe('MALFORMED_MESSAGE');
    expect(errorCode(() => decode(signed.subarray(0, kindAt)))).toBe('MALFORMED_MESSAGE');
    // Tweak 2 on a legacy body: the bytes after it are not a group section of that request.
    const legacy = encodeAnnouncementBody(body()).slice();
    legacy[tweakAt(b)] = 2;
    expect(errorCode(() => decode(legacy))).toBe('MALFORMED_MESSAGE');
    const tweak3 = signed.slice();
    tweak3[tweakAt(b)] = 3;
    expect(errorCode(() => decode(tweak3))).toBe('MALFORMED_MESSAGE');
  });

  it('decodes to a value that encodes to the same bytes, for any path (property)', () => {
    const path = fc.oneof(
      fc.constant<SpendPath>({ kind: 'key' }),
      fc.integer({ min: 0, max: 255 }).map((leaf): SpendPath => ({ kind: 'leaf', leaf })),
    );
    fc.assert(
      fc.property(path, fc.uint8Array({ minLength: 32, maxLength: 32 }), (p, id) => {
        const signed = encodeAnnouncementBody(body({ tweak: 'path', group: { id, path: p } }));
        const decoded = decode(signed);
        expect(decoded.type === 'announcement' && bytesToHex(encodeAnnouncementBody(decoded.body))).toBe(bytesToHex(signed));
      }),
    );
  });
});
