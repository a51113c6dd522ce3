/**
 * A session announcement (signing request): built and BIP340-signed by its creator over every byte of
 * its canonical encoding; checked by each receiver before anything is shown (docs/PROTOCOL.md §Announcement).
 */
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { CosignerError } from '../errors.ts';
import {
  appendSignature,
  decodeFrame,
  encodeAnnouncementBody,
  type AnnouncementBody,
  type BatchItem,
  type DecodedFrame,
  type Payload,
  type PsbtPayload,
} from './codec.ts';
import { announcementDigest, sessionIdOf } from './hashes.ts';
import { PROTOCOL_MAX_NONCES, PROTOCOL_MAX_SIGNERS } from './limits.ts';

export interface Announcement {
  /** 32-byte session id: tagged hash of the signed bytes. */
  readonly id: Uint8Array;
  readonly idHex: string;
  readonly body: AnnouncementBody;
  /** The whole signed frame, as sent and stored. */
  readonly frame: Uint8Array;
}

export interface AnnouncementChecks {
  /** The local signer's 33-byte key: the receiver must be one of the signers. */
  localKey: Uint8Array;
  now: number;
  maxSigners: number;
  /** Tolerated clock difference on createdAt. */
  timestampWindowMs: number;
}

/** The messages a `message` or `batch` payload carries, with their labels, in order. (A PSBT payload
 *  carries none: its messages are computed from the PSBT, see psbt-session.ts.) */
export function itemsOf(payload: Exclude<Payload, PsbtPayload>): readonly BatchItem[] {
  return payload.kind === 'message' ? [{ message: payload.message, label: payload.label }] : payload.items;
}

/** Signs `body` with the creator's secret key; `auxRand` is BIP340's 32 bytes of auxiliary randomness. */
export function signAnnouncement(body: AnnouncementBody, creatorSecretKey: Uint8Array, auxRand: Uint8Array): Announcement {
  const creator = body.signers[body.creatorIndex];
  if (creator === undefined) throw new CosignerError('NOT_A_SIGNER', 'the creator must be one of the signers');
  if (!equalKeys(secp256k1.getPublicKey(creatorSecretKey, true), creator)) {
    throw new CosignerError('INVALID_INPUT', 'the signing key is not the creator listed in the announcement');
  }
  checkAnnouncementBody(body, PROTOCOL_MAX_SIGNERS);
  const signed = encodeAnnouncementBody(body);
  const signature = schnorr.sign(announcementDigest(signed), creatorSecretKey, auxRand);
  const id = sessionIdOf(signed);
  return { id, idHex: bytesToHex(id), body, frame: appendSignature(signed, signature) };
}

export function equalKeys(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

function checkSigners(signers: readonly Uint8Array[], maxSigners: number): void {
  if (signers.length > maxSigners) {
    throw new CosignerError('TOO_MANY_SIGNERS', `at most ${maxSigners} signers`, { signers: signers.length, max: maxSigners });
  }
  const xs = new Set<string>();
  signers.forEach((key, signerIndex) => {
    try {
      secp256k1.Point.fromBytes(key);
    } catch {
      throw new CosignerError('INVALID_PUBLIC_KEY', 'a signer key is not a valid compressed point', { signerIndex });
    }
    // BIP340 signatures bind only x: two keys with one x (P and -P) are one signer, whatever the prefix.
    const x = bytesToHex(key.subarray(1));
    if (xs.has(x)) throw new CosignerError('DUPLICATE_SIGNER', 'a signer is listed twice', { signerIndex });
    xs.add(x);
  });
}

/**
 * OVERSIZED_MESSAGE when a session of `signers` signing `messages` messages could not send its
 * PARTIAL_SIGS (every signer's nonces ride in it as evidence): refused before anything is signed.
 * A PSBT's message count is its input count, known once it is read (main/session/psbt-session.ts).
 */
export function checkSessionSize(signers: number, messages: number): void {
  if (signers * messages > PROTOCOL_MAX_NONCES) {
    throw new CosignerError(
      'OVERSIZED_MESSAGE',
      `${signers} signers × ${messages} messages exceeds ${PROTOCOL_MAX_NONCES} nonces per round`,
      {
        signers,
        messages,
        max: PROTOCOL_MAX_NONCES,
      },
    );
  }
}

/** The checks both sides apply to the content (the creator before signing, receivers after decoding). */
export function checkAnnouncementBody(body: AnnouncementBody, maxSigners: number): void {
  checkSigners(body.signers, maxSigners);
  if (body.payload.kind !== 'psbt') checkSessionSize(body.signers.length, itemsOf(body.payload).length);
  if (body.expiresAt <= body.createdAt) {
    throw new CosignerError('MALFORMED_MESSAGE', 'expiry must come after creation', { field: 'expiresAt' });
  }
  // Everything is signed for the group's taproot output: a PSBT's inputs are spends of it, a message
  // is a BIP322 signature for its address, by the key path ('taproot': the signers' n-of-n key) or
  // by a named group's path ('path'). A raw signature under the plain aggregate key, over bytes a
  // creator chose, is never made (docs/PROTOCOL.md §Message payload).
  if (body.tweak !== 'taproot' && body.tweak !== 'path') {
    throw new CosignerError('MALFORMED_MESSAGE', 'every request is signed for a taproot output (tweak 1 or 2)', { field: 'tweak' });
  }
}

function authenticate(decoded: DecodedFrame, maxSigners: number): Announcement {
  if (decoded.type !== 'announcement') throw new CosignerError('MALFORMED_MESSAGE', 'not an announcement');
  const { body, signed, signature } = decoded;
  checkAnnouncementBody(body, maxSigners);
  const creator = body.signers[body.creatorIndex] as Uint8Array;
  if (!schnorr.verify(signature, announcementDigest(signed), creator.subarray(1))) {
    throw new CosignerError('BAD_SIGNATURE', 'the announcement is not signed by its creator', { creatorIndex: body.creatorIndex });
  }
  const id = sessionIdOf(signed);
  return { id, idHex: bytesToHex(id), body, frame: appendSignature(signed, signature) };
}

/**
 * Everything a receiver checks before the request is shown (except "not seen before", which needs the
 * store): sizes and signer count, valid distinct keys, the creator's signature over the whole content,
 * the local signer among the signers, creation time not in the future, not expired. The creator is
 * named by its index in the list, so "the creator is a signer" holds by construction.
 */
export function verifyAnnouncement(decoded: DecodedFrame, checks: AnnouncementChecks): Announcement {
  const announcement = authenticate(decoded, checks.maxSigners);
  const { body } = announcement;
  if (!body.signers.some((key) => equalKeys(key, checks.localKey))) {
    throw new CosignerError('NOT_A_SIGNER', 'this node is not one of the signers');
  }
  if (body.createdAt > checks.now + checks.timestampWindowMs) {
    throw new CosignerError('TIMESTAMP_OUT_OF_WINDOW', 'the announcement is created in the future', { createdAt: body.createdAt });
  }
  if (body.expiresAt <= checks.now) {
    throw new CosignerError('EXPIRED', 'the announcement has expired', { expiresAt: body.expiresAt });
  }
  return announcement;
}

/** Re-reads a stored frame: decoded and authenticated again, but not held to times (history is old)
 *  nor to today's signer limit (it may have been lowered since). */
export function reloadAnnouncement(frame: Uint8Array): Announcement {
  return authenticate(decodeFrame(frame), PROTOCOL_MAX_SIGNERS);
}

/** What the p2p layer needs to file an announcement in the DHT (its AnnouncementInspector). */
export type AnnouncementFacts =
  { ok: true; creator: Uint8Array; signers: readonly Uint8Array[]; expiresAt: number } | { ok: false; reason: string };

/** Decodes and authenticates an announcement for the transport, which must not depend on this codec. */
export function inspectAnnouncement(frame: Uint8Array): AnnouncementFacts {
  try {
    const { body } = reloadAnnouncement(frame);
    return { ok: true, creator: body.signers[body.creatorIndex] as Uint8Array, signers: body.signers, expiresAt: body.expiresAt };
  } catch (e) {
    return { ok: false, reason: e instanceof CosignerError ? e.code : 'MALFORMED_MESSAGE' };
  }
}
