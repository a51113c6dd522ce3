import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeMessage, encodeMessage, MAX_FRAME_BYTES, MAX_PAYLOAD_BYTES } from '../../../main/p2p/wire.ts';
import type { WireMessage } from '../../../main/p2p/wire.ts';

describe('wire envelope', () => {
  const messages: WireMessage[] = [
    { type: 'deliver', kind: 'announcement', payload: new Uint8Array([1, 2, 3]) },
    { type: 'deliver', kind: 'session-message', payload: new Uint8Array(MAX_PAYLOAD_BYTES).fill(7) },
    { type: 'ack' },
    { type: 'nack', reason: 'rate-limited' },
    { type: 'nack', reason: 'not-ready' },
    { type: 'card', card: new Uint8Array(200).fill(9) },
  ];

  it('round-trips every message type', () => {
    for (const m of messages) expect(decodeMessage(encodeMessage(m))).toEqual({ ok: true, message: m });
  });

  it('gives one typed reason for each kind of bad frame', () => {
    expect(decodeMessage(new Uint8Array([]))).toEqual({ ok: false, reason: 'malformed' });
    expect(decodeMessage(new Uint8Array([2, 2]))).toEqual({ ok: false, reason: 'unsupported-version' });
    expect(decodeMessage(new Uint8Array([1, 0x7f]))).toEqual({ ok: false, reason: 'unknown-type' });
    expect(decodeMessage(new Uint8Array([1, 0x01, 0]))).toEqual({ ok: false, reason: 'malformed' }); // empty payload
    expect(decodeMessage(new Uint8Array([1, 0x01, 5, 1]))).toEqual({ ok: false, reason: 'malformed' }); // unknown kind
    expect(decodeMessage(new Uint8Array([1, 0x02, 0]))).toEqual({ ok: false, reason: 'malformed' }); // ack with a body
    expect(decodeMessage(new Uint8Array([1, 0x03, 99]))).toEqual({ ok: false, reason: 'malformed' }); // unknown nack
    expect(decodeMessage(new Uint8Array(MAX_FRAME_BYTES + 1))).toEqual({ ok: false, reason: 'oversized' });
  });

  it('decodes arbitrary bytes to a message or a reason, never an exception', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const r = decodeMessage(bytes);
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 1000 },
    );
  });
});
