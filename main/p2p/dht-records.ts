/**
 * What Cosigner stores in its Kademlia DHT, and the validators and selectors that keep it honest.
 *
 *   /cosigner-card/<signer hex>                   the newest signer card of that key
 *   /cosigner-ann/<recipient hex>/<creator hex>   an inbox: the creator's pending announcements to the recipient
 *
 * Nobody can overwrite another's record: a card is valid under its key only when signed by that very
 * signer key, and an inbox record only when signed by the creator named in its key. Keying the inbox
 * by (recipient, creator) means a stranger who spams a recipient only fills their own inbox slot and
 * can never evict a legitimate creator's announcements. Selectors pick the newest record (card
 * `issuedAt`, inbox `seq`), and our datastore keeps the newer record when an older one is replayed
 * (kad-dht's PUT handler would otherwise let any valid older record replace a newer one).
 *
 * Inbox record encoding (big-endian):
 *   version u8 (=1) | recipient 33 | creator 33 | seq u64 | count u8 | (len u32 | announcement)* | sig 64
 *   sig = BIP340(taggedHash("Cosigner/announcement-inbox", everything before sig)) by the creator key.
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import { equalBytes } from '@noble/curves/utils.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import type { SelectFn, ValidateFn } from '@libp2p/kad-dht';
import { CosignerError } from '../errors.ts';
import type { Clock, Random } from '../session/ports.ts';
import { ByteReader, ByteWriter } from '../encoding/bytes.ts';
import type { LengthBounds } from '../encoding/bytes.ts';
import { BoundedMap } from './bounded-map.ts';
import { decodeSignerCard, isCardFromTheFuture, isSignedBy, isValidSignerKey } from './signer-card.ts';
import type { SignatureCheck, SignerKey } from './signer-card.ts';
import { MAX_PAYLOAD_BYTES } from './wire.ts';

export const CARD_NAMESPACE = 'cosigner-card';
export const INBOX_NAMESPACE = 'cosigner-ann';
export const INBOX_VERSION = 1;
export const INBOX_TAG = 'Cosigner/announcement-inbox';
export const MAX_INBOX_ENTRIES = 8;
export const MAX_INBOX_RECORD_BYTES = 512 * 1024;
/** An announcement may not claim a longer life than this, which bounds how long records linger. */
export const MAX_ANNOUNCEMENT_LIFETIME_MS = 7 * 24 * 3600_000;
const MAX_SEQ_CLOCK_SKEW_MS = 10 * 60_000;
const ANNOUNCEMENT_FIELD: LengthBounds = { prefix: 'u32', min: 1, max: MAX_PAYLOAD_BYTES };

/** What the transport needs to know about an announcement; the session codec supplies it. */
export type AnnouncementFacts =
  { ok: true; creator: Uint8Array; signers: readonly Uint8Array[]; expiresAt: number } | { ok: false; reason: string };

/** Decodes and verifies (signature included) an announcement; injected so p2p does not depend on the session codec. */
export type AnnouncementInspector = (announcement: Uint8Array) => AnnouncementFacts;

/** Announcements whose inspection a node remembers: a few sessions' worth. */
export const REMEMBERED_INSPECTIONS = 64;

/**
 * The same inspector, remembering its verdict on the last few announcements by their hash. An
 * announcement is immutable and its inspection does not depend on time, and the same one reaches a
 * node many times while a request is published: in the inbox record of each co-signer, stored by
 * the DHT on this node, and again when polled; each inspection checks a signature and every key.
 */
export function rememberingInspector(inspect: AnnouncementInspector, size = REMEMBERED_INSPECTIONS): AnnouncementInspector {
  const verdicts = new BoundedMap<string, AnnouncementFacts>(size);
  return (announcement) => {
    const hash = bytesToHex(sha256(announcement));
    const known = verdicts.get(hash);
    if (known !== undefined) return known;
    const facts = inspect(announcement);
    verdicts.set(hash, facts);
    return facts;
  };
}

export interface InboxRecord {
  readonly recipient: Uint8Array;
  readonly creator: Uint8Array;
  readonly seq: number;
  readonly announcements: readonly Uint8Array[];
  readonly bytes: Uint8Array;
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

export function cardKey(signer: Uint8Array): Uint8Array {
  return utf8.encode(`/${CARD_NAMESPACE}/${bytesToHex(signer)}`);
}

export function inboxKey(recipient: Uint8Array, creator: Uint8Array): Uint8Array {
  return utf8.encode(`/${INBOX_NAMESPACE}/${bytesToHex(recipient)}/${bytesToHex(creator)}`);
}

export function encodeInboxRecord(
  fields: { recipient: Uint8Array; seq: number; announcements: readonly Uint8Array[] },
  creator: SignerKey,
  random: Random,
): Uint8Array {
  if (fields.announcements.length === 0 || fields.announcements.length > MAX_INBOX_ENTRIES) {
    throw new CosignerError('INVALID_INPUT', 'an inbox record holds 1 to 8 announcements', { count: fields.announcements.length });
  }
  const w = new ByteWriter('inbox record')
    .u8(INBOX_VERSION, 'version')
    .fixed(fields.recipient, 33, 'recipient')
    .fixed(creator.publicKey, 33, 'creator')
    .u64(fields.seq, 'seq')
    .u8(fields.announcements.length, 'count', MAX_INBOX_ENTRIES);
  for (const a of fields.announcements) w.bytes(a, 'announcement', ANNOUNCEMENT_FIELD);
  const body = w.finish();
  const signature = schnorr.sign(inboxDigest(body), creator.secretKey(), random.bytes(32));
  const bytes = new ByteWriter('inbox record').raw(body, 'body').fixed(signature, 64, 'signature').finish();
  if (bytes.length > MAX_INBOX_RECORD_BYTES)
    throw new CosignerError('OVERSIZED_MESSAGE', 'inbox record too large', { length: bytes.length });
  return bytes;
}

/** Decodes an inbox record and verifies the creator's signature; throws MALFORMED_MESSAGE / BAD_SIGNATURE. */
export function decodeInboxRecord(bytes: Uint8Array, signature: SignatureCheck = 'check'): InboxRecord {
  if (bytes.length > MAX_INBOX_RECORD_BYTES)
    throw new CosignerError('OVERSIZED_MESSAGE', 'inbox record too large', { length: bytes.length });
  const r: ByteReader = new ByteReader(bytes, 'inbox record');
  const version = r.u8('version');
  if (version !== INBOX_VERSION) throw new CosignerError('UNSUPPORTED_VERSION', 'unknown inbox record version', { version });
  const recipient = r.fixed(33, 'recipient');
  if (!isValidSignerKey(recipient)) r.fail('invalid key', 'recipient');
  const creator = r.fixed(33, 'creator');
  if (!isValidSignerKey(creator)) r.fail('invalid key', 'creator');
  const seq = r.u64('seq');
  const count = r.u8('count', MAX_INBOX_ENTRIES);
  if (count === 0) r.fail('no announcement', 'count');
  const announcements: Uint8Array[] = [];
  for (let i = 0; i < count; i++) announcements.push(r.bytes('announcement', ANNOUNCEMENT_FIELD));
  const body = bytes.subarray(0, r.offset);
  const signed = r.fixed(64, 'signature');
  r.end();
  if (signature === 'check' && !isSignedBy(creator, inboxDigest(body), signed))
    throw new CosignerError('BAD_SIGNATURE', 'inbox record signature does not verify', { creator: bytesToHex(creator) });
  return { recipient, creator, seq, announcements, bytes: Uint8Array.from(bytes) };
}

/**
 * The announcements of an inbox record that are addressed to its recipient and not expired; throws
 * when the record holds anything the creator could not legitimately have put there.
 */
export function checkInboxAnnouncements(record: InboxRecord, inspect: AnnouncementInspector, now: number): Uint8Array[] {
  const live: Uint8Array[] = [];
  for (const a of record.announcements) {
    const facts = inspect(a);
    if (!facts.ok) throw new CosignerError('MALFORMED_MESSAGE', `inbox holds an invalid announcement: ${facts.reason}`);
    if (!equalBytes(facts.creator, record.creator))
      throw new CosignerError('BAD_SIGNATURE', 'inbox announcement is not from the inbox creator');
    if (!facts.signers.some((s) => equalBytes(s, record.recipient)))
      throw new CosignerError('NOT_A_SIGNER', 'inbox announcement does not list the recipient');
    if (facts.expiresAt > now + MAX_ANNOUNCEMENT_LIFETIME_MS)
      throw new CosignerError('INVALID_INPUT', 'inbox announcement expires too far in the future');
    if (facts.expiresAt > now) live.push(a);
  }
  return live;
}

export interface DhtRecordRules {
  validators: Record<string, ValidateFn>;
  selectors: Record<string, SelectFn>;
}

export function createDhtRecordRules(deps: { clock: Clock; inspectAnnouncement: AnnouncementInspector }): DhtRecordRules {
  const validateCard: ValidateFn = async (key, value) => {
    const [signerHex] = keyParts(key, CARD_NAMESPACE, 1);
    const card = decodeSignerCard(value);
    if (bytesToHex(card.signerKey) !== signerHex) throw new CosignerError('BAD_SIGNATURE', 'card signer does not match its DHT key');
    if (isCardFromTheFuture(card, deps.clock.now())) throw new CosignerError('TIMESTAMP_OUT_OF_WINDOW', 'card issued in the future');
  };
  const validateInbox: ValidateFn = async (key, value) => {
    const [recipientHex, creatorHex] = keyParts(key, INBOX_NAMESPACE, 2);
    const record = decodeInboxRecord(value);
    if (bytesToHex(record.recipient) !== recipientHex || bytesToHex(record.creator) !== creatorHex) {
      throw new CosignerError('BAD_SIGNATURE', 'inbox record does not match its DHT key');
    }
    const now = deps.clock.now();
    if (record.seq > now + MAX_SEQ_CLOCK_SKEW_MS) throw new CosignerError('TIMESTAMP_OUT_OF_WINDOW', 'inbox record from the future');
    if (checkInboxAnnouncements(record, deps.inspectAnnouncement, now).length === 0) {
      throw new CosignerError('EXPIRED', 'every announcement in the inbox record has expired');
    }
  };
  const selectNewest: SelectFn = (key, records) => {
    let best = 0;
    let bestVersion = -1;
    records.forEach((record, i) => {
      const v = recordVersion(key, record) ?? -1;
      if (v > bestVersion) {
        best = i;
        bestVersion = v;
      }
    });
    return best;
  };
  return {
    validators: { [CARD_NAMESPACE]: validateCard, [INBOX_NAMESPACE]: validateInbox },
    selectors: { [CARD_NAMESPACE]: selectNewest, [INBOX_NAMESPACE]: selectNewest },
  };
}

/**
 * The version that orders records under one key (card `issuedAt`, inbox `seq`); undefined when the
 * value does not decode or the key is not ours. Signatures are checked too unless the value was
 * validated already, so a forged record has no version. Selectors pick the highest; the datastore
 * refuses to replace a record by a lower one.
 */
export function recordVersion(key: Uint8Array, value: Uint8Array, signature: SignatureCheck = 'check'): number | undefined {
  const namespace = utf8Decoder.decode(key).split('/')[1];
  try {
    if (namespace === CARD_NAMESPACE) return decodeSignerCard(value, signature).issuedAt;
    if (namespace === INBOX_NAMESPACE) return decodeInboxRecord(value, signature).seq;
  } catch {
    return undefined;
  }
  return undefined;
}

/** Splits `/<namespace>/<hex>[/<hex>]` into its key components, each a valid signer key in lowercase hex. */
function keyParts(key: Uint8Array, namespace: string, count: number): string[] {
  const parts = utf8Decoder.decode(key).split('/');
  if (parts.length !== count + 2 || parts[0] !== '' || parts[1] !== namespace) {
    throw new CosignerError('MALFORMED_MESSAGE', 'bad DHT key shape', { namespace });
  }
  const hexes = parts.slice(2);
  for (const hex of hexes) {
    if (!/^[0-9a-f]{66}$/.test(hex) || !isValidSignerKey(hexToBytes(hex))) {
      throw new CosignerError('MALFORMED_MESSAGE', 'DHT key does not hold a signer key', { namespace });
    }
  }
  return hexes;
}

function inboxDigest(body: Uint8Array): Uint8Array {
  return schnorr.utils.taggedHash(INBOX_TAG, body);
}
