import { createHash } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { checkLanContact } from '../../../main/book/lan-contact.ts';
import { requests } from '../../../preload/contract.ts';
import { SAFETY_CODE_PATTERN, SAFETY_CODE_TAG, safetyCode } from '../../../preload/safety-code.ts';

const key = (n: number) => bytesToHex(secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(new Uint8Array(48).fill(n)), true));
const alice = key(1);
const bob = key(2);
const mallory = key(3);

/** The rule of preload/safety-code.ts computed with node:crypto, not with the module under test. */
function independentCode(a: string, b: string): string {
  const tag = createHash('sha256').update(SAFETY_CODE_TAG).digest();
  const [lo, hi] = [a, b].sort();
  const h = createHash('sha256').update(tag).update(tag).update(Buffer.from(lo!, 'hex')).update(Buffer.from(hi!, 'hex')).digest();
  return [0, 1, 2, 3, 4, 5].map((i) => String(h.readUInt32BE(4 * i) % 10_000).padStart(4, '0')).join(' ');
}

describe('LAN contact safety code', () => {
  it('is the same on both screens, whichever side computes it, and six groups of four digits', () => {
    expect(safetyCode(alice, bob)).toBe(safetyCode(bob, alice));
    expect(safetyCode(alice, bob)).toMatch(SAFETY_CODE_PATTERN);
    expect(safetyCode(alice.toUpperCase(), bob)).toBe(safetyCode(alice, bob));
  });

  it('follows its specification (tagged SHA-256 of the sorted keys), checked with node:crypto', () => {
    for (const [a, b] of [
      [alice, bob],
      [bob, mallory],
      [mallory, alice],
    ] as const)
      expect(safetyCode(a, b)).toBe(independentCode(a, b));
  });

  it('differs when either key differs: a stranger calling himself Bob shows Alice another code', () => {
    expect(safetyCode(alice, mallory)).not.toBe(safetyCode(alice, bob));
    expect(safetyCode(mallory, bob)).not.toBe(safetyCode(alice, bob));
  });

  it('is part of the contacts.save arguments, in its shape only', () => {
    const args = requests['contacts.save'].args;
    expect(args.safeParse({ publicKey: bob, name: 'Bob', safetyCode: safetyCode(alice, bob) }).success).toBe(true);
    expect(args.safeParse({ publicKey: bob, name: 'Bob' }).success).toBe(true);
    expect(args.safeParse({ publicKey: bob, name: 'Bob', safetyCode: 'yes' }).success).toBe(false);
  });
});

describe('saving a co-signer found on the LAN', () => {
  const base = { ownKey: alice, publicKey: bob, lanKeys: [bob, mallory], alreadySaved: false };
  const refusal = (confirmedCode: string | undefined) => {
    try {
      checkLanContact({ ...base, confirmedCode });
    } catch (error) {
      return error as { code: string; context: { reason: string } };
    }
    return undefined;
  };

  it('is refused without the safety code the user confirmed', () => {
    expect(refusal(undefined)).toMatchObject({ code: 'SAFETY_CODE_REQUIRED', context: { reason: 'missing' } });
  });

  it("is refused with the code of another pair of keys (the stranger's code confirmed for Bob's key)", () => {
    expect(refusal(safetyCode(alice, mallory))).toMatchObject({ code: 'SAFETY_CODE_REQUIRED', context: { reason: 'mismatch' } });
  });

  it('is accepted with the code of these two keys', () => {
    expect(refusal(safetyCode(bob, alice))).toBeUndefined();
  });

  it('needs no code for a key not seen on the LAN (typed in from elsewhere) or already a contact (a rename)', () => {
    expect(() => checkLanContact({ ...base, lanKeys: [mallory], confirmedCode: undefined })).not.toThrow();
    expect(() => checkLanContact({ ...base, alreadySaved: true, confirmedCode: undefined })).not.toThrow();
  });
});
