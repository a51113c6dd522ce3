/** Fixtures for the p2p tests: a stand-in announcement format. */
import { schnorr } from '@noble/curves/secp256k1.js';
import { equalBytes } from '@noble/curves/utils.js';
import { ByteReader, ByteWriter } from '../../main/encoding/bytes.ts';
import type { AnnouncementFacts } from '../../main/p2p/dht-records.ts';
import type { SignerKey } from '../../main/p2p/signer-card.ts';

/**
 * A stand-in announcement for transport tests, so they do not depend on the session codec:
 *   "TANN" | creator 33 | count u8 | signers 33* | expiresAt u64 | nonce 8 | BIP340 signature 64 by the creator.
 * Its inspector has the same shape as the session's `inspectAnnouncement`.
 */
export function makeTestAnnouncement(creator: SignerKey, signers: readonly Uint8Array[], expiresAt: number, nonce: number): Uint8Array {
  const body = new ByteWriter('test announcement').raw(TANN, 'magic').fixed(creator.publicKey, 33, 'creator').u8(signers.length, 'count');
  for (const s of signers) body.fixed(s, 33, 'signer');
  const signed = body.u64(expiresAt, 'expiresAt').u64(nonce, 'nonce').finish();
  const sig = schnorr.sign(schnorr.utils.taggedHash('test/announcement', signed), creator.secretKey(), new Uint8Array(32));
  return new ByteWriter('test announcement').raw(signed, 'body').fixed(sig, 64, 'signature').finish();
}

export function inspectTestAnnouncement(bytes: Uint8Array): AnnouncementFacts {
  try {
    const r = new ByteReader(bytes, 'test announcement');
    if (!equalBytes(r.fixed(4, 'magic'), TANN)) return { ok: false, reason: 'magic' };
    const creator = r.fixed(33, 'creator');
    const count = r.u8('count');
    const signers: Uint8Array[] = [];
    for (let i = 0; i < count; i++) signers.push(r.fixed(33, 'signer'));
    const expiresAt = r.u64('expiresAt');
    r.u64('nonce');
    const signed = bytes.subarray(0, r.offset);
    const sig = r.fixed(64, 'signature');
    r.end();
    if (!schnorr.verify(sig, schnorr.utils.taggedHash('test/announcement', signed), creator.subarray(1)))
      return { ok: false, reason: 'BAD_SIGNATURE' };
    return { ok: true, creator, signers, expiresAt };
  } catch {
    return { ok: false, reason: 'MALFORMED_MESSAGE' };
  }
}

const TANN = new TextEncoder().encode('TANN');
