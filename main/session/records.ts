/**
 * The stored form of a session (docs/PROTOCOL.md §Persistence): the signed announcement, the public
 * state and the sequence numbers. Never a nonce or a key. A record is validated when read back, and a
 * node that restarted in an exchange phase is marked unable to act in that attempt.
 */
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { z } from 'zod';
import type { JsonValue } from '../storage/record-store.ts';
import { reloadAnnouncement, type Announcement } from './announcement.ts';
import { MAX_U32 } from './limits.ts';
import { StoredPsbt } from './psbt-session.ts';
import { isExchange, PHASES, type SessionState } from './state.ts';

export const RECORD_FORMAT = 1;

const hex = (bytes?: number) => z.string().regex(bytes === undefined ? /^(?:[0-9a-f]{2})+$/ : new RegExp(`^[0-9a-f]{${bytes * 2}}$`));
const count = z.number().int().nonnegative().max(MAX_U32);
const millis = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

const RecordSchema = z.object({
  format: z.literal(RECORD_FORMAT),
  sessionId: hex(32),
  announcement: hex(),
  localKey: hex(33),
  signingKey: hex(32),
  phase: z.enum(PHASES),
  attempt: count.min(1),
  attemptFloor: count,
  approved: z.array(z.boolean()),
  localSequence: count,
  peerSequences: z.array(count),
  signatures: z.array(hex(64)),
  failure: z
    .object({
      code: z.string().max(64),
      reason: z.string().max(1024),
      blame: z.array(count),
      reportedBy: count,
      /** Absent in records written before it existed: see verifiedOf. */
      verified: z.boolean().optional(),
    })
    .nullable(),
  phaseSince: millis,
  updatedAt: millis,
  version: millis,
  /** PSBT sessions only: the review, each input's message and key, the signed transaction. */
  psbt: StoredPsbt.optional(),
});
export type SessionRecord = z.infer<typeof RecordSchema>;

export interface RecordInput {
  announcement: Announcement;
  localKey: Uint8Array;
  signingKey: Uint8Array;
  state: SessionState;
  localSequence: number;
  peerSequences: readonly number[];
  psbt?: StoredPsbt | undefined;
}

export function toRecord({ announcement, localKey, signingKey, state, localSequence, peerSequences, psbt }: RecordInput): JsonValue {
  const record: SessionRecord = {
    format: RECORD_FORMAT,
    sessionId: announcement.idHex,
    announcement: bytesToHex(announcement.frame),
    localKey: bytesToHex(localKey),
    signingKey: bytesToHex(signingKey),
    phase: state.phase,
    attempt: state.attempt,
    attemptFloor: state.attemptFloor,
    approved: [...state.approved],
    localSequence,
    peerSequences: [...peerSequences],
    signatures: state.signatures.map(bytesToHex),
    failure: state.failure ? { ...state.failure, blame: [...state.failure.blame] } : null,
    phaseSince: state.phaseSince,
    updatedAt: state.updatedAt,
    version: state.version,
    ...(psbt ? { psbt } : {}),
  };
  return record;
}

export interface Restored {
  announcement: Announcement;
  localKey: Uint8Array;
  localIndex: number;
  /** Stored rather than recomputed: key aggregation costs a point multiplication per signer. */
  signingKey: Uint8Array;
  state: SessionState;
  localSequence: number;
  peerSequences: number[];
  psbt: StoredPsbt | undefined;
}

/**
 * A record read back after a restart, or an error when it is not one this code wrote. Secret nonces
 * died with the process: a session that was in an exchange phase cannot go on in that attempt, so the
 * attempt becomes the floor and only a new attempt (resume) can continue it.
 */
export function fromRecord(json: unknown): Restored {
  const record = RecordSchema.parse(json);
  const announcement = reloadAnnouncement(hexToBytes(record.announcement));
  const n = announcement.body.signers.length;
  const localIndex = announcement.body.signers.findIndex((key) => bytesToHex(key) === record.localKey);
  const consistent =
    announcement.idHex === record.sessionId &&
    localIndex >= 0 &&
    record.approved.length === n &&
    record.peerSequences.length === n &&
    record.attemptFloor <= record.attempt &&
    (record.failure?.blame ?? []).every((i) => i < n) &&
    (record.failure?.reportedBy ?? 0) < n &&
    (record.phase === 'COMPLETE') === record.signatures.length > 0 &&
    (announcement.body.payload.kind === 'psbt') === (record.psbt !== undefined) &&
    (record.psbt === undefined ||
      ((record.phase === 'COMPLETE') === (record.psbt.transaction !== null) &&
        (record.signatures.length === 0 || record.signatures.length === record.psbt.messages.length)));
  if (!consistent) throw new Error('record fields contradict its announcement');
  const state: SessionState = {
    phase: record.phase,
    attempt: record.attempt,
    attemptFloor: isExchange(record.phase) ? record.attempt : record.attemptFloor,
    approved: record.approved,
    nonces: Array.from({ length: n }, () => undefined),
    partials: Array.from({ length: n }, () => undefined),
    signatures: record.signatures.map((s) => hexToBytes(s)),
    failure: record.failure ? { ...record.failure, verified: verifiedOf(record.failure, localIndex) } : undefined,
    phaseSince: record.phaseSince,
    updatedAt: record.updatedAt,
    version: record.version,
  };
  return {
    announcement,
    localKey: hexToBytes(record.localKey),
    localIndex,
    signingKey: hexToBytes(record.signingKey),
    state,
    localSequence: record.localSequence,
    peerSequences: record.peerSequences,
    psbt: record.psbt,
  };
}

/** A record from before `verified` was stored: only what this node detected, or a signer's decline of
 *  its own (blame = the reporter alone), was checked here; any other remote end was a claim. */
function verifiedOf(
  failure: { code: string; blame: readonly number[]; reportedBy: number; verified?: boolean | undefined },
  localIndex: number,
): boolean {
  if (failure.verified !== undefined) return failure.verified;
  return (
    failure.reportedBy === localIndex ||
    (failure.code === 'DECLINED' && failure.blame.length === 1 && failure.blame[0] === failure.reportedBy)
  );
}
