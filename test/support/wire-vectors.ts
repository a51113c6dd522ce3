/**
 * Builds every pinned wire vector (test/support/wire-cases.ts) as the encoders write them today,
 * and reads test/vectors/wire.json. Values are JSON with byte arrays as `{ "$bytes": hex }`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { encodeInboxRecord } from '../../main/p2p/dht-records.ts';
import { createSignerCard } from '../../main/p2p/signer-card.ts';
import { encodeMessage } from '../../main/p2p/wire.ts';
import { decodeFrame } from '../../main/session/codec.ts';
import { sessionIdOf } from '../../main/session/hashes.ts';
import { GroupKeysCache } from '../../main/session/psbt-session.ts';
import { spendFrom } from './psbt-fixtures.ts';
import {
  alice,
  announcementCases,
  bob,
  cardFields,
  cardRandom,
  carol,
  controlCases,
  inboxRandom,
  messageCases,
  pathAnnouncementCases,
  signedAnnouncement,
  signedMessage,
  vectorPeerId,
  wireCases,
} from './wire-cases.ts';

export type VectorFormat = 'session-frame' | 'p2p-frame' | 'signer-card' | 'inbox-record' | 'control-frame';
export interface WireVector {
  format: VectorFormat;
  name: string;
  /** The decoded value, as the decoder returns it (JSON form). */
  value: unknown;
  hex: string;
}

export const VECTORS_FILE = path.resolve(import.meta.dirname, '../vectors/wire.json');

export function toJson(value: unknown): unknown {
  if (value instanceof Uint8Array) return { $bytes: bytesToHex(value) };
  if (Array.isArray(value)) return value.map(toJson);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJson(v)]));
  return value;
}

export function fromJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromJson);
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 1 && entries[0]![0] === '$bytes') return hexToBytes(entries[0]![1] as string);
    return Object.fromEntries(entries.map(([k, v]) => [k, fromJson(v)]));
  }
  return value;
}

/** A small PSBT of the vectors' group: two of its inputs, one payment. */
export function vectorPsbt(): Uint8Array {
  const keys = new GroupKeysCache().of([alice.publicKey, bob.publicKey, carol.publicKey]);
  return spendFrom(
    keys,
    [
      { path: [], amount: 60_000n },
      { path: [0, 1], amount: 40_000n },
    ],
    [{ outputKey: bob.publicKey.subarray(1), amount: 90_000n }],
    'wire-vectors',
  ).toPSBT();
}

/** Every vector as today's encoders write it. */
export async function buildVectors(): Promise<WireVector[]> {
  const out: WireVector[] = [];
  const session = (name: string, bytes: Uint8Array) => {
    const decoded = decodeFrame(bytes);
    const value =
      decoded.type === 'announcement'
        ? { type: decoded.type, body: decoded.body, signature: decoded.signature }
        : { type: decoded.type, message: decoded.message, signature: decoded.signature };
    out.push({ format: 'session-frame', name, value: toJson(value), hex: bytesToHex(bytes) });
  };
  const announcements = announcementCases(vectorPsbt()).map((c) => ({ name: c.name, bytes: signedAnnouncement(c.body, c.name) }));
  for (const a of announcements) session(a.name, a.bytes);
  const first = decodeFrame(announcements[0]!.bytes);
  if (first.type !== 'announcement') throw new Error('not an announcement');
  const messages = messageCases(sessionIdOf(first.signed)).map((c) => ({ name: c.name, bytes: signedMessage(c) }));
  for (const m of messages) session(m.name, m.bytes);

  const peerId = await vectorPeerId();
  const card = createSignerCard(cardFields(peerId), alice, cardRandom());
  out.push({
    format: 'signer-card',
    name: 'signer card',
    value: toJson({
      signerKey: card.signerKey,
      peerId: card.peerId,
      displayName: card.displayName,
      multiaddrs: card.multiaddrs,
      issuedAt: card.issuedAt,
    }),
    hex: bytesToHex(card.bytes),
  });
  for (const w of wireCases(announcements[0]!.bytes, messages[0]!.bytes, card.bytes)) {
    out.push({ format: 'p2p-frame', name: w.name, value: toJson(w.message), hex: bytesToHex(encodeMessage(w.message)) });
  }
  const inbox = encodeInboxRecord(
    { recipient: bob.publicKey, seq: 3, announcements: [announcements[0]!.bytes, announcements[1]!.bytes] },
    alice,
    inboxRandom(),
  );
  out.push({
    format: 'inbox-record',
    name: 'inbox record',
    value: toJson({
      recipient: bob.publicKey,
      creator: alice.publicKey,
      seq: 3,
      announcements: [announcements[0]!.bytes, announcements[1]!.bytes],
    }),
    hex: bytesToHex(inbox),
  });
  for (const c of controlCases) {
    out.push({ format: 'control-frame', name: c.name, value: c.frame, hex: bytesToHex(new TextEncoder().encode(JSON.stringify(c.frame))) });
  }
  // Added with group paths, after every earlier vector, which stay as they were.
  for (const c of pathAnnouncementCases()) session(c.name, signedAnnouncement(c.body, c.name));
  return out;
}

export function readVectors(): WireVector[] {
  return (JSON.parse(readFileSync(VECTORS_FILE, 'utf8')) as { vectors: WireVector[] }).vectors;
}
