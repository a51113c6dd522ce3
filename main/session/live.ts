/**
 * A session in memory (Live) and the small pure helpers every part of the coordinator shares.
 */
import { hexToBytes } from '@noble/hashes/utils.js';
import { CosignerError, type ErrorCode } from '../errors.ts';
import type { SecretNonce } from '../musig/index.ts';
import { equalKeys, type Announcement } from './announcement.ts';
import type { BatchItem } from './codec.ts';
import type { ResolvedPath } from './group-path.ts';
import type { PsbtSession } from './psbt-session.ts';
import { SequenceTracker } from './replay-guard.ts';
import type { Batch, SessionKeys } from './session-crypto.ts';
import type { Failure, SessionState } from './state.ts';

export interface Live {
  readonly announcement: Announcement;
  readonly localIndex: number;
  /** The messages asked for, with their labels. */
  readonly items: readonly BatchItem[];
  /** What is signed, per item: its BIP322 digest (for a PSBT, the input's BIP341 sighash). */
  readonly messages: readonly Uint8Array[];
  /** Per message, the x-only key its signature verifies under. */
  readonly verifyKeys: readonly Uint8Array[];
  /** x-only key the snapshot names (stored, so history needs no key aggregation). */
  readonly signingKey: Uint8Array;
  /** The group path the request names (recomputed here); undefined for a legacy request. */
  readonly path: ResolvedPath | undefined;
  /** The PSBT side of a PSBT session. */
  readonly psbt: PsbtSession | undefined;
  /** The key-aggregation context, computed when first needed (it costs a multiplication per signer). */
  keys: SessionKeys | undefined;
  /** min(announced expiry, creation + sessionTimeout) */
  readonly deadline: number;
  readonly replay: SequenceTracker;
  state: SessionState;
  localSequence: number;
  /** Only in memory, only for the attempt they were made for; dropped on any change of attempt or end. */
  secrets: { attempt: number; nonces: SecretNonce[] } | undefined;
  batch: { attempt: number; batch: Batch } | undefined;
  queue: Promise<unknown>;
  queued: number;
}

export type Outcome = { state: SessionState } | { failure: Failure };

export function fail(code: ErrorCode, reason: string, blame: number[], reportedBy: number): Outcome {
  return { failure: { code, reason, blame, reportedBy, verified: true } };
}

const utf8 = new TextEncoder();

/** Cuts `text` to at most `max` UTF-8 bytes without splitting a character. */
export function clip(text: string, max: number): string {
  let out = '';
  let size = 0;
  for (const char of text) {
    size += utf8.encode(char).length;
    if (size > max) break;
    out += char;
  }
  return out;
}

export function parseHex(value: string, field: string): Uint8Array {
  if (typeof value !== 'string' || !/^(?:[0-9a-fA-F]{2})*$/.test(value)) {
    throw new CosignerError('INVALID_INPUT', `${field} must be hex`, { field });
  }
  return hexToBytes(value.toLowerCase());
}

export function sameNonces(a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean {
  return a.length === b.length && a.every((x, i) => equalKeys(x, b[i] as Uint8Array));
}
