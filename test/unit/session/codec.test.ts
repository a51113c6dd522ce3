import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  appendSignature,
  decodeFrame,
  encodeAnnouncementBody,
  encodeMessageBody,
  FRAME_TYPES,
  type AnnouncementBody,
  type MessageBody,
} from '../../../main/session/codec.ts';
import {
  MAX_DISPLAY_BYTES,
  MAX_FRAME_BYTES,
  MAX_MESSAGE_BYTES,
  PROTOCOL_MAX_MESSAGES,
  PROTOCOL_MAX_SIGNERS,
} from '../../../main/session/limits.ts';
import { body, errorCode, message } from '../../support/session-fixtures.ts';

const SIG = new Uint8Array(64).fill(0xab);

function frameOf(b: AnnouncementBody): Uint8Array {
  return appendSignature(encodeAnnouncementBody(b), SIG);
}

describe('codec: announcements', () => {
  it('round-trips every field and re-encodes to the same bytes', () => {
    const b = body({
      payload: {
        kind: 'batch',
        items: [
          { message: new Uint8Array([1, 2, 3]), label: 'input 0' },
          { message: new Uint8Array(32).fill(2), label: '' },
        ],
      },
      tweak: 'none',
      creatorIndex: 2,
    });
    const frame = frameOf(b);
    const decoded = decodeFrame(frame);
    expect(decoded.type).toBe('announcement');
    if (decoded.type !== 'announcement') return;
    expect(decoded.body).toEqual(b);
    expect(decoded.signature).toEqual(SIG);
    expect(appendSignature(encodeAnnouncementBody(decoded.body), decoded.signature)).toEqual(frame);
  });

  it('starts with the version byte and the type byte', () => {
    const frame = frameOf(body());
    expect([frame[0], frame[1]]).toEqual([1, FRAME_TYPES.announcement]);
  });

  it('rejects trailing bytes, truncation, unknown versions, types and payload kinds', () => {
    const frame = frameOf(body());
    const signed = encodeAnnouncementBody(body());
    expect(errorCode(() => decodeFrame(appendSignature(Uint8Array.of(...signed, 0), SIG)))).toBe('MALFORMED_MESSAGE');
    expect(errorCode(() => decodeFrame(frame.slice(0, frame.length - 1)))).toBe('MALFORMED_MESSAGE');
    expect(errorCode(() => decodeFrame(frame.slice(0, 10)))).toBe('MALFORMED_MESSAGE');
    expect(errorCode(() => decodeFrame(Uint8Array.of(2, ...frame.slice(1))))).toBe('UNSUPPORTED_VERSION');
    expect(errorCode(() => decodeFrame(Uint8Array.of(1, 0x7f, ...frame.slice(2))))).toBe('UNSUPPORTED_VERSION');
    // payload := kind u8, body length u32, message (u32 length + 32 bytes), label (u32 length + text)
    const kindAt = signed.length - (4 + 4 + 32 + 4 + 'sighash'.length) - 1;
    expect(signed[kindAt]).toBe(1);
    const unknownKind = signed.slice();
    unknownKind[kindAt] = 9;
    expect(errorCode(() => decodeFrame(appendSignature(unknownKind, SIG)))).toBe('UNSUPPORTED_VERSION');
  });

  it('rejects a frame over the maximum size before reading it', () => {
    expect(errorCode(() => decodeFrame(new Uint8Array(MAX_FRAME_BYTES + 1)))).toBe('OVERSIZED_MESSAGE');
  });

  it('refuses to encode what it could not decode', () => {
    expect(errorCode(() => encodeAnnouncementBody(body({ signers: [body().signers[0]!] })))).toBe('INVALID_INPUT');
    expect(errorCode(() => encodeAnnouncementBody(body({ creatorIndex: 3 })))).toBe('INVALID_INPUT');
    expect(errorCode(() => encodeAnnouncementBody(body({ display: 'x'.repeat(MAX_DISPLAY_BYTES + 1) })))).toBe('INVALID_INPUT');
    expect(errorCode(() => encodeAnnouncementBody(body({ display: '\ud800' })))).toBe('INVALID_INPUT');
    expect(errorCode(() => encodeAnnouncementBody(body({ payload: { kind: 'message', message: new Uint8Array(0), label: '' } })))).toBe(
      'INVALID_INPUT',
    );
    expect(
      errorCode(() =>
        encodeAnnouncementBody(body({ payload: { kind: 'message', message: new Uint8Array(MAX_MESSAGE_BYTES + 1), label: '' } })),
      ),
    ).toBe('INVALID_INPUT');
    expect(errorCode(() => encodeAnnouncementBody(body({ payload: { kind: 'batch', items: [] } })))).toBe('INVALID_INPUT');
    const many = Array.from({ length: PROTOCOL_MAX_MESSAGES + 1 }, () => ({ message: new Uint8Array(1), label: '' }));
    expect(errorCode(() => encodeAnnouncementBody(body({ payload: { kind: 'batch', items: many } })))).toBe('INVALID_INPUT');
    const signers = Array.from({ length: PROTOCOL_MAX_SIGNERS + 1 }, () => body().signers[0]!);
    expect(errorCode(() => encodeAnnouncementBody(body({ signers })))).toBe('INVALID_INPUT');
    expect(errorCode(() => encodeAnnouncementBody(body({ createdAt: 2 ** 53 })))).toBe('INVALID_INPUT');
    expect(errorCode(() => encodeAnnouncementBody(body({ salt: new Uint8Array(31) })))).toBe('INVALID_INPUT');
    expect(errorCode(() => encodeAnnouncementBody(body({ tweak: 'xonly' as never })))).toBe('INVALID_INPUT');
  });

  it('rejects invalid UTF-8, counts and values the encoder never writes', () => {
    const signed = encodeAnnouncementBody(body({ display: 'ab' }));
    const displayAt = signed.indexOf(0x61); // 'a'
    const badUtf8 = signed.slice();
    badUtf8[displayAt] = 0xff;
    expect(errorCode(() => decodeFrame(appendSignature(badUtf8, SIG)))).toBe('MALFORMED_MESSAGE');
    const oneSigner = signed.slice();
    oneSigner[2] = 1;
    expect(errorCode(() => decodeFrame(appendSignature(oneSigner, SIG)))).toBe('MALFORMED_MESSAGE');
    const badCreator = signed.slice();
    badCreator[3 + 3 * 33] = 3;
    expect(errorCode(() => decodeFrame(appendSignature(badCreator, SIG)))).toBe('MALFORMED_MESSAGE');
    const badTweak = signed.slice();
    badTweak[4 + 3 * 33] = 2;
    expect(errorCode(() => decodeFrame(appendSignature(badTweak, SIG)))).toBe('MALFORMED_MESSAGE');
    const hugeTime = signed.slice();
    hugeTime[5 + 3 * 33] = 0xff; // createdAt above 2^53
    expect(errorCode(() => decodeFrame(appendSignature(hugeTime, SIG)))).toBe('MALFORMED_MESSAGE');
  });

  it('decodes exactly what it encodes, for any valid announcement', () => {
    const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });
    const item = fc.record({ message: bytes(1, 64), label: fc.string({ maxLength: 20 }) });
    const arb = fc.record({
      signers: fc.array(bytes(33, 33), { minLength: 2, maxLength: 5 }),
      tweak: fc.constantFrom('none' as const, 'taproot' as const),
      createdAt: fc.nat({ max: 2 ** 50 }),
      expiresAt: fc.nat({ max: 2 ** 50 }),
      salt: bytes(32, 32),
      display: fc.string({ maxLength: 50 }),
      payload: fc.oneof(
        item.map((i) => ({ kind: 'message' as const, ...i })),
        fc.array(item, { minLength: 1, maxLength: 4 }).map((items) => ({ kind: 'batch' as const, items })),
      ),
    });
    fc.assert(
      fc.property(arb, fc.nat(), (b, c) => {
        const full: AnnouncementBody = { ...b, creatorIndex: c % b.signers.length };
        const frame = frameOf(full);
        const decoded = decodeFrame(frame);
        expect(decoded.type === 'announcement' && decoded.body).toEqual(full);
      }),
      { numRuns: 100 },
    );
  });
});

describe('codec: session messages', () => {
  const bodies: MessageBody[] = [
    { type: 'approve' },
    { type: 'decline', reason: 'not today' },
    { type: 'nonces', nonces: [new Uint8Array(66).fill(2), new Uint8Array(66).fill(3)] },
    {
      type: 'partials',
      partials: [new Uint8Array(32).fill(4)],
      evidence: [
        { sequence: 2, timestamp: 5, signature: new Uint8Array(64).fill(5), nonces: [new Uint8Array(66).fill(6)] },
        { sequence: 7, timestamp: 8, signature: new Uint8Array(64).fill(9), nonces: [new Uint8Array(66).fill(10)] },
      ],
    },
    { type: 'abort', code: 'INVALID_PARTIAL_SIGNATURE', blame: [1, 2], reason: 'signer 1 sent garbage' },
  ];

  it.each(bodies.map((b) => [b.type, b] as const))('round-trips %s', (_type, b) => {
    const m = message({ body: b, attempt: 3, sequence: 77, sender: 2 });
    const frame = appendSignature(encodeMessageBody(m), SIG);
    expect(frame[1]).toBe(FRAME_TYPES[b.type]);
    const decoded = decodeFrame(frame);
    expect(decoded.type !== 'announcement' && decoded.message).toEqual(m);
    expect(decoded.signed).toEqual(frame.slice(0, -64));
  });

  it('rejects attempt 0, sequence 0, bad abort codes, trailing bytes', () => {
    const enc = (m: Parameters<typeof encodeMessageBody>[0]) => appendSignature(encodeMessageBody(m), SIG);
    expect(errorCode(() => decodeFrame(enc(message({ attempt: 0 }))))).toBe('MALFORMED_MESSAGE');
    expect(errorCode(() => decodeFrame(enc(message({ sequence: 0 }))))).toBe('MALFORMED_MESSAGE');
    expect(errorCode(() => encodeMessageBody(message({ body: { type: 'abort', code: 'lower', blame: [], reason: '' } })))).toBe(
      'INVALID_INPUT',
    );
    expect(errorCode(() => encodeMessageBody(message({ sequence: 2 ** 32 })))).toBe('INVALID_INPUT');
    const signed = encodeMessageBody(message());
    expect(errorCode(() => decodeFrame(appendSignature(Uint8Array.of(...signed, 0), SIG)))).toBe('MALFORMED_MESSAGE');
    expect(errorCode(() => decodeFrame(appendSignature(signed.slice(0, -1), SIG)))).toBe('MALFORMED_MESSAGE');
  });
});
