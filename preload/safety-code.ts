/**
 * The safety code two people compare aloud before trusting a co-signer found on the LAN. A LAN
 * card's name is whatever its sender chose, so "Bob's laptop" may be anyone's key; the code is
 * derived from both signer keys, sorted, so Alice's screen and Bob's show the same digits exactly
 * when each sees the other's real key. A stranger would need a key whose code with Alice equals
 * Bob's: a second preimage of about 80 bits.
 *
 *   code = six groups of four digits; group i = u32be(h[4i..4i+4]) mod 10000
 *   h    = SHA-256(SHA-256(tag) || SHA-256(tag) || lower || higher)   (BIP340 tagged hash)
 *
 * with tag "Cosigner/contact-safety-code" and lower/higher the two 33-byte keys in byte order.
 * Shared by the back end (which checks a confirmed code) and the UI (which shows it): no Node API.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';

export const SAFETY_CODE_TAG = 'Cosigner/contact-safety-code';
export const SAFETY_CODE_GROUPS = 6;
/** What a safety code looks like: `0123 4567 8901 2345 6789 0123`. */
export const SAFETY_CODE_PATTERN = /^[0-9]{4}(?: [0-9]{4}){5}$/;

const TAG_HASH = sha256(utf8ToBytes(SAFETY_CODE_TAG));

/** The code of two compressed public keys (hex); the same whichever key comes first. */
export function safetyCode(keyA: string, keyB: string): string {
  const [lower, higher] = [keyA.toLowerCase(), keyB.toLowerCase()].sort();
  const h = sha256(concatBytes(TAG_HASH, TAG_HASH, hexToBytes(lower!), hexToBytes(higher!)));
  const view = new DataView(h.buffer, h.byteOffset, h.byteLength);
  const groups: string[] = [];
  for (let i = 0; i < SAFETY_CODE_GROUPS; i++) groups.push(String(view.getUint32(4 * i) % 10_000).padStart(4, '0'));
  return groups.join(' ');
}
