/**
 * The domain-separated BIP340 tagged hashes of the protocol (docs/PROTOCOL.md §Hashes). A distinct tag
 * per purpose means a signature made for one kind of data can never be presented as another kind.
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import { SESSION_ID_BYTES } from './codec.ts';

export const TAGS = {
  announcement: 'Cosigner/announcement',
  sessionId: 'Cosigner/session-id',
  message: 'Cosigner/message',
} as const;

/** taggedHash(tag, x) = SHA256(SHA256(tag) || SHA256(tag) || x), as in BIP340. */
export function taggedHash(tag: string, data: Uint8Array): Uint8Array {
  return schnorr.utils.taggedHash(tag, data);
}

/** The digest the creator signs: the announcement's signed bytes (everything but the signature). */
export function announcementDigest(signed: Uint8Array): Uint8Array {
  return taggedHash(TAGS.announcement, signed);
}

/** The session id names the announcement's content, independently of the signature bytes (which
 *  carry fresh aux randomness): re-signing the same content yields the same session. */
export function sessionIdOf(signed: Uint8Array): Uint8Array {
  return taggedHash(TAGS.sessionId, signed);
}

/** The digest a signer signs for a session message: the message's signed bytes. */
export function messageDigest(signed: Uint8Array): Uint8Array {
  return taggedHash(TAGS.message, signed);
}

/** BIP327 NonceGen extra_in: session id || attempt (u32 BE) || message index (u32 BE), so a nonce is
 *  bound to the one (session, attempt, message) it is made for, on top of its fresh randomness. */
export function nonceExtraIn(sessionId: Uint8Array, attempt: number, messageIndex: number): Uint8Array {
  const out = new Uint8Array(SESSION_ID_BYTES + 8);
  out.set(sessionId);
  const view = new DataView(out.buffer);
  view.setUint32(SESSION_ID_BYTES, attempt);
  view.setUint32(SESSION_ID_BYTES + 4, messageIndex);
  return out;
}
