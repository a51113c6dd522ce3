import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { generatePeerIdentity, peerIdOf } from '../../../main/p2p/identity.ts';
import {
  createSignerCard,
  decodeSignerCard,
  isCardFromTheFuture,
  isNewerCard,
  MAX_CARD_ADDRS,
  MAX_CARD_CLOCK_SKEW_MS,
} from '../../../main/p2p/signer-card.ts';
import { isCosignerError } from '../../../main/errors.ts';
import { seededRandom } from '../../support/random.ts';
import { testSigner } from '../../support/signers.ts';

const random = seededRandom('card');
const alice = testSigner('alice');
const bob = testSigner('bob');
const peerId = peerIdOf(await generatePeerIdentity(seededRandom('peer-a')));
const fields = {
  peerId,
  displayName: 'Alice’s laptop',
  multiaddrs: ['/ip4/192.168.1.7/tcp/4001', '/ip6/::1/tcp/4001'],
  issuedAt: 1_700_000_000_000,
};

describe('signer card', () => {
  it('round-trips through its canonical encoding and verifies', () => {
    const card = createSignerCard(fields, alice, random);
    const decoded = decodeSignerCard(card.bytes);
    expect(decoded.peerId).toBe(peerId);
    expect(decoded.displayName).toBe(fields.displayName);
    expect(decoded.multiaddrs).toEqual(fields.multiaddrs);
    expect(decoded.issuedAt).toBe(fields.issuedAt);
    expect(decoded.signerKey).toEqual(alice.publicKey);
  });

  it('rejects any single flipped byte (signature, key, fields)', () => {
    const card = createSignerCard(fields, alice, random);
    for (let i = 0; i < card.bytes.length; i++) {
      const tampered = card.bytes.slice();
      tampered[i] = (tampered[i] as number) ^ 0x01;
      expect(() => decodeSignerCard(tampered), `byte ${i}`).toThrow();
    }
  });

  it('refuses to sign with a secret that does not match the public key', () => {
    const mismatched = { publicKey: alice.publicKey, secretKey: bob.secretKey };
    expect(() => createSignerCard(fields, mismatched, random)).toThrow(expect.objectContaining({ code: 'INVALID_SECRET_KEY' }));
  });

  it('cannot be moved to another signer key: a re-keyed card fails verification', () => {
    const card = createSignerCard(fields, alice, random);
    const moved = card.bytes.slice();
    moved.set(bob.publicKey, 1);
    expect(() => decodeSignerCard(moved)).toThrow(expect.objectContaining({ code: 'BAD_SIGNATURE' }));
  });

  it('bounds and sanitises the display name and addresses', () => {
    expect(() => createSignerCard({ ...fields, displayName: '' }, alice, random)).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
    expect(() => createSignerCard({ ...fields, displayName: 'x'.repeat(65) }, alice, random)).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
    expect(() => createSignerCard({ ...fields, displayName: 'bob\u202Eevil' }, alice, random)).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
    expect(() => createSignerCard({ ...fields, displayName: 'line\nbreak' }, alice, random)).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
    const tooMany = Array.from({ length: MAX_CARD_ADDRS + 1 }, (_, i) => `/ip4/10.0.0.${i}/tcp/1`);
    expect(() => createSignerCard({ ...fields, multiaddrs: tooMany }, alice, random)).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
  });

  it('rejects trailing bytes and unknown versions', () => {
    const card = createSignerCard(fields, alice, random);
    expect(() => decodeSignerCard(new Uint8Array([...card.bytes, 0]))).toThrow(expect.objectContaining({ code: 'MALFORMED_MESSAGE' }));
    const v2 = card.bytes.slice();
    v2[0] = 2;
    expect(() => decodeSignerCard(v2)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_VERSION' }));
  });

  it('orders cards by issuedAt and flags cards from the future', () => {
    const older = createSignerCard(fields, alice, random);
    const newer = createSignerCard({ ...fields, issuedAt: fields.issuedAt + 1 }, alice, random);
    expect(isNewerCard(newer, older)).toBe(true);
    expect(isNewerCard(older, newer)).toBe(false);
    expect(isNewerCard(older, undefined)).toBe(true);
    expect(isCardFromTheFuture(newer, fields.issuedAt)).toBe(false);
    expect(isCardFromTheFuture(newer, fields.issuedAt - MAX_CARD_CLOCK_SKEW_MS - 10)).toBe(true);
  });

  it('never throws anything but a typed error on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        try {
          decodeSignerCard(bytes);
        } catch (err) {
          expect(isCosignerError(err)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
