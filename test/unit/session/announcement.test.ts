import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { inspectAnnouncement, signAnnouncement, verifyAnnouncement, type AnnouncementChecks } from '../../../main/session/announcement.ts';
import { appendSignature, decodeFrame, encodeAnnouncementBody, type AnnouncementBody } from '../../../main/session/codec.ts';
import { announcementDigest, messageDigest, nonceExtraIn, sessionIdOf, TAGS } from '../../../main/session/hashes.ts';
import { body, errorCode, NOW, signersABC } from '../../support/session-fixtures.ts';
import { testSigner } from '../../support/signers.ts';

const [alice, bob, carol] = signersABC as [(typeof signersABC)[0], (typeof signersABC)[0], (typeof signersABC)[0]];
const AUX = new Uint8Array(32).fill(3);
const checks = (overrides: Partial<AnnouncementChecks> = {}): AnnouncementChecks => ({
  localKey: bob.publicKey,
  now: NOW + 1000,
  maxSigners: 16,
  timestampWindowMs: 300_000,
  ...overrides,
});

const verify = (frame: Uint8Array, c = checks()) => verifyAnnouncement(decodeFrame(frame), c);

describe('announcement signing', () => {
  it('is verified by every listed signer and names the same session for all', () => {
    const a = signAnnouncement(body(), alice.secret, AUX);
    expect(verify(a.frame).idHex).toBe(a.idHex);
    expect(verify(a.frame, checks({ localKey: carol.publicKey })).idHex).toBe(a.idHex);
    expect(a.id).toEqual(sessionIdOf(encodeAnnouncementBody(body())));
  });

  it('is deterministic for the same content and aux randomness; the id does not depend on the signature', () => {
    const a = signAnnouncement(body(), alice.secret, AUX);
    const b = signAnnouncement(body(), alice.secret, AUX);
    const c = signAnnouncement(body(), alice.secret, new Uint8Array(32).fill(4));
    expect(b.frame).toEqual(a.frame);
    expect(c.frame).not.toEqual(a.frame);
    expect(c.idHex).toBe(a.idHex);
    expect(verify(c.frame).idHex).toBe(a.idHex);
  });

  it('gives a different session id for a change in any field', () => {
    const base = signAnnouncement(body(), alice.secret, AUX).idHex;
    const variants: Partial<AnnouncementBody>[] = [
      { signers: [alice.publicKey, carol.publicKey, bob.publicKey] },
      { createdAt: NOW + 1 },
      { expiresAt: NOW + 3_600_001 },
      { salt: new Uint8Array(32).fill(8) },
      { display: 'Pay the plumber ✗' },
      { payload: { kind: 'message', message: new Uint8Array(32).fill(2), label: 'sighash' } },
      { payload: { kind: 'message', message: new Uint8Array(32).fill(1), label: 'sighash!' } },
      { payload: { kind: 'batch', items: [{ message: new Uint8Array(32).fill(1), label: 'sighash' }] } },
    ];
    const ids = variants.map((v) => signAnnouncement(body(v), alice.secret, AUX).idHex);
    ids.push(signAnnouncement(body({ creatorIndex: 1 }), bob.secret, AUX).idHex);
    // The tweak byte too (a request with tweak 0 cannot be signed, see below, but it has an id).
    ids.push(bytesToHex(sessionIdOf(encodeAnnouncementBody(body({ tweak: 'none' })))));
    expect(new Set([base, ...ids]).size).toBe(ids.length + 1);
  });

  it('covers every byte: flipping any bit of the frame is rejected', () => {
    const frame = signAnnouncement(body(), alice.secret, AUX).frame;
    let rejected = 0;
    for (let i = 0; i < frame.length; i++) {
      const bad = frame.slice();
      bad[i] = (bad[i] as number) ^ 0x01;
      expect(
        errorCode(() => verify(bad)),
        `byte ${i}`,
      ).not.toBe('no error');
      rejected += 1;
    }
    expect(rejected).toBe(frame.length);
  });

  it('rejects a tampered field re-encoded under the original signature', () => {
    const a = signAnnouncement(body(), alice.secret, AUX);
    const signature = a.frame.slice(-64);
    const tampered: Partial<AnnouncementBody>[] = [
      { signers: [alice.publicKey, bob.publicKey, testSigner('mallory').publicKey] },
      { creatorIndex: 1 },
      { createdAt: NOW - 1 },
      { expiresAt: NOW + 7_200_000 },
      { salt: new Uint8Array(32) },
      { display: 'Pay Mallory' },
      { payload: { kind: 'message', message: new Uint8Array(32).fill(6), label: 'sighash' } },
    ];
    for (const t of tampered) {
      const frame = appendSignature(encodeAnnouncementBody(body(t)), signature);
      expect(
        errorCode(() => verify(frame)),
        JSON.stringify(Object.keys(t)),
      ).toBe('BAD_SIGNATURE');
    }
  });

  it('refuses a message or batch under the plain aggregate key (tweak 0), even signed by its creator', () => {
    for (const payload of [body().payload, { kind: 'batch' as const, items: [{ message: Uint8Array.of(1), label: '' }] }]) {
      const plain = body({ tweak: 'none', payload });
      expect(errorCode(() => signAnnouncement(plain, alice.secret, AUX))).toBe('MALFORMED_MESSAGE');
      const signed = encodeAnnouncementBody(plain);
      const frame = appendSignature(signed, schnorr.sign(announcementDigest(signed), alice.secret, AUX));
      expect(errorCode(() => verify(frame))).toBe('MALFORMED_MESSAGE');
      // Nor is it filed in the DHT for anyone.
      expect(inspectAnnouncement(frame)).toEqual({ ok: false, reason: 'MALFORMED_MESSAGE' });
    }
  });

  it('rejects impersonation: a listed creator whose key did not sign', () => {
    const mallory = testSigner('mallory');
    // Mallory signs an announcement naming Alice as creator.
    const signed = encodeAnnouncementBody(body());
    const forged = appendSignature(signed, schnorr.sign(announcementDigest(signed), mallory.secret, AUX));
    expect(errorCode(() => verify(forged))).toBe('BAD_SIGNATURE');
    // Mallory cannot use the library to sign as someone else either.
    expect(errorCode(() => signAnnouncement(body(), mallory.secret, AUX))).toBe('INVALID_INPUT');
    // A signature over the session id (another tag) is not an announcement signature.
    const wrongTag = appendSignature(signed, schnorr.sign(sessionIdOf(signed), alice.secret, AUX));
    expect(errorCode(() => verify(wrongTag))).toBe('BAD_SIGNATURE');
  });

  it('checks membership, duplicates, limits and times', () => {
    const outsider = testSigner('outsider');
    const a = signAnnouncement(body(), alice.secret, AUX);
    expect(errorCode(() => verify(a.frame, checks({ localKey: outsider.publicKey })))).toBe('NOT_A_SIGNER');
    expect(errorCode(() => verify(a.frame, checks({ maxSigners: 2 })))).toBe('TOO_MANY_SIGNERS');
    expect(errorCode(() => verify(a.frame, checks({ now: NOW + 3_600_000 })))).toBe('EXPIRED');
    expect(errorCode(() => verify(a.frame, checks({ now: NOW - 300_001 })))).toBe('TIMESTAMP_OUT_OF_WINDOW');
    expect(verify(a.frame, checks({ now: NOW - 300_000 })).idHex).toBe(a.idHex);

    const dup = encodeAnnouncementBody(body({ signers: [alice.publicKey, bob.publicKey, bob.publicKey] }));
    const dupFrame = appendSignature(dup, schnorr.sign(announcementDigest(dup), alice.secret, AUX));
    expect(errorCode(() => verify(dupFrame))).toBe('DUPLICATE_SIGNER');

    // Same x, other parity: a different 33-byte key but the same BIP340 signer.
    const negated = Uint8Array.from(bob.publicKey);
    negated[0] = negated[0] === 2 ? 3 : 2;
    expect(() => secp256k1.Point.fromBytes(negated)).not.toThrow();
    const twin = encodeAnnouncementBody(body({ signers: [alice.publicKey, bob.publicKey, negated] }));
    expect(errorCode(() => verify(appendSignature(twin, schnorr.sign(announcementDigest(twin), alice.secret, AUX))))).toBe(
      'DUPLICATE_SIGNER',
    );

    const notAPoint = new Uint8Array(33).fill(0xff);
    notAPoint[0] = 2;
    const bad = encodeAnnouncementBody(body({ signers: [alice.publicKey, bob.publicKey, notAPoint] }));
    expect(errorCode(() => verify(appendSignature(bad, schnorr.sign(announcementDigest(bad), alice.secret, AUX))))).toBe(
      'INVALID_PUBLIC_KEY',
    );

    expect(errorCode(() => signAnnouncement(body({ expiresAt: NOW }), alice.secret, AUX))).toBe('MALFORMED_MESSAGE');
  });

  it('gives the transport the facts it needs', () => {
    const a = signAnnouncement(body(), alice.secret, AUX);
    const facts = inspectAnnouncement(a.frame);
    expect(facts).toEqual({ ok: true, creator: alice.publicKey, signers: body().signers, expiresAt: body().expiresAt });
    const bad = a.frame.slice();
    bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 1;
    expect(inspectAnnouncement(bad)).toEqual({ ok: false, reason: 'BAD_SIGNATURE' });
    expect(inspectAnnouncement(new Uint8Array(3))).toEqual({ ok: false, reason: 'MALFORMED_MESSAGE' });
  });
});

describe('tagged hashes', () => {
  it('are BIP340 tagged hashes with distinct tags', () => {
    const data = new Uint8Array([1, 2, 3]);
    const tagged = (tag: string) => {
      const t = sha256(new TextEncoder().encode(tag));
      return sha256(Uint8Array.of(...t, ...t, ...data));
    };
    expect(announcementDigest(data)).toEqual(tagged('Cosigner/announcement'));
    expect(sessionIdOf(data)).toEqual(tagged('Cosigner/session-id'));
    expect(messageDigest(data)).toEqual(tagged('Cosigner/message'));
    expect(new Set(Object.values(TAGS)).size).toBe(3);
  });

  it('lays out the nonce extra input as session id, attempt, message index', () => {
    const id = new Uint8Array(32).fill(0xee);
    expect(nonceExtraIn(id, 2, 5)).toEqual(Uint8Array.of(...id, 0, 0, 0, 2, 0, 0, 0, 5));
  });
});
