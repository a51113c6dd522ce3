import { describe, expect, it } from 'vitest';
import { KeyVerifier } from '../../../main/musig/index.ts';
import { decodeFrame } from '../../../main/session/codec.ts';
import { messageSignatureValid, nonceEvidenceValid, signMessage } from '../../../main/session/messages.ts';
import { message, signersABC } from '../../support/session-fixtures.ts';

const [, bob, carol] = signersABC as [(typeof signersABC)[0], (typeof signersABC)[0], (typeof signersABC)[0]];
const AUX = new Uint8Array(32);

/** Each key's table is built, as a coordinator does for the signers of a request. */
const prepared = new KeyVerifier();
for (const s of signersABC) prepared.prepare(s.publicKey.subarray(1));

describe('session message signatures', () => {
  for (const [name, verifier] of [
    ['noble', undefined],
    ['a verifier with the keys prepared', prepared],
  ] as const) {
    it(`verify under the sender key only, and cover every byte (${name})`, () => {
      const frame = signMessage(message({ body: { type: 'decline', reason: 'no' } }), bob.secret, AUX);
      const d = decodeFrame(frame);
      expect(messageSignatureValid(d.signed, d.signature, bob.publicKey, verifier)).toBe(true);
      expect(messageSignatureValid(d.signed, d.signature, carol.publicKey, verifier)).toBe(false);
      for (let i = 0; i < frame.length; i++) {
        const bad = frame.slice();
        bad[i] = (bad[i] as number) ^ 0x80;
        let ok = false;
        try {
          const b = decodeFrame(bad);
          ok = messageSignatureValid(b.signed, b.signature, bob.publicKey, verifier);
        } catch {
          ok = false;
        }
        expect(ok, `byte ${i}`).toBe(false);
      }
    });
  }

  it('rebuild a forwarded NONCES message to check it as evidence', () => {
    const nonces = [new Uint8Array(66).fill(2)];
    const m = message({ sender: 1, attempt: 2, sequence: 5, body: { type: 'nonces', nonces } });
    const frame = signMessage(m, bob.secret, AUX);
    const evidence = { sequence: 5, timestamp: m.timestamp, signature: frame.slice(-64), nonces };
    expect(nonceEvidenceValid(m.sessionId, 1, 2, evidence, bob.publicKey)).toBe(true);
    expect(nonceEvidenceValid(m.sessionId, 1, 3, evidence, bob.publicKey)).toBe(false);
    expect(nonceEvidenceValid(m.sessionId, 2, 2, evidence, bob.publicKey)).toBe(false);
    expect(nonceEvidenceValid(new Uint8Array(32), 1, 2, evidence, bob.publicKey)).toBe(false);
    expect(nonceEvidenceValid(m.sessionId, 1, 2, { ...evidence, sequence: 6 }, bob.publicKey)).toBe(false);
    expect(nonceEvidenceValid(m.sessionId, 1, 2, { ...evidence, nonces: [new Uint8Array(66).fill(3)] }, bob.publicKey)).toBe(false);
    expect(nonceEvidenceValid(m.sessionId, 1, 2, { ...evidence, nonces: [new Uint8Array(5)] }, bob.publicKey)).toBe(false);
    expect(nonceEvidenceValid(m.sessionId, 1, 2, evidence, carol.publicKey)).toBe(false);
    expect(nonceEvidenceValid(m.sessionId, 1, 2, evidence, bob.publicKey, prepared)).toBe(true);
    expect(nonceEvidenceValid(m.sessionId, 1, 2, { ...evidence, sequence: 6 }, bob.publicKey, prepared)).toBe(false);
  });
});
