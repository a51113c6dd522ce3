import type { BitcoinNetwork } from '../../preload/contract.ts';
import { CosignerError } from '../errors.ts';
import type { SessionSnapshot } from './snapshot.ts';

/**
 * Protocol limits. Every node enforces the same values when decoding, so they are constants of the
 * wire format (docs/PROTOCOL.md §Limits), not per-node options: changing one is a protocol version bump.
 */
export const PROTOCOL_VERSION = 1;
/** Equal to the p2p transport's largest payload (main/p2p/wire.ts MAX_PAYLOAD_BYTES). The per-field
 *  limits below are each within it; their sum may not be, and the frame cap then decides. */
export const MAX_FRAME_BYTES = 256 * 1024;
/** Hard cap of the encoding; `maxSigners` (default 16) narrows it per node. */
export const PROTOCOL_MAX_SIGNERS = 32;
/** Messages in one batch payload, and inputs of a PSBT payload (one message each). */
export const PROTOCOL_MAX_MESSAGES = 128;
/** Signers × messages of one session. A PARTIAL_SIGS frame carries every signer's nonces as evidence
 *  (66 bytes each, 77 bytes per signer besides): at this bound, e.g. 16 signers × 128 messages or
 *  32 × 64, it is at most 2048 × 66 + 32 × 77 + 128 × 32 + 100 ≈ 143 KiB of the 256 KiB frame. Without
 *  it 32 signers × 128 messages (≈ 277 KiB) would be accepted and then fail at its second round. */
export const PROTOCOL_MAX_NONCES = 2048;
/** Bytes of one message to sign. BIP340/BIP327 allow any length; we bound it, and require at least 1. */
export const MAX_MESSAGE_BYTES = 4096;
export const MAX_LABEL_BYTES = 256;
export const MAX_DISPLAY_BYTES = 4096;
export const MAX_REASON_BYTES = 256;
/** ABORT codes are short ASCII identifiers (an ErrorCode). */
export const MAX_CODE_BYTES = 64;
/** Sequence numbers and attempts are u32 on the wire. */
export const MAX_U32 = 0xffff_ffff;

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

/** Whether a headless co-signer approves a request without asking anyone. Off unless given. */
export type AutoApprovePolicy = (request: SessionSnapshot) => boolean;

export interface CoordinatorOptions {
  /** Reject session messages whose sequence number is not fresh for (session, sender). */
  enableReplayProtection: boolean;
  /** A sequence number more than this above the last accepted one is rejected (SEQUENCE_GAP). */
  maxSequenceGap: number;
  /** A message whose timestamp differs from local time by more than this is rejected. */
  timestampWindowMs: number;
  /** Run the cleanup sweep every `cleanupIntervalMs`; when false, only `sweep()` and `cleanup()` clean. */
  enableAutoCleanup: boolean;
  cleanupIntervalMs: number;
  /** A session this long in NONCE_EXCHANGE or PARTIAL_SIG_EXCHANGE (same attempt) is aborted. */
  stuckSessionTimeoutMs: number;
  /** No session lives longer than this after its creation time, whatever its own expiry says;
   *  finished sessions leave memory (not the store) after it too. */
  sessionTimeoutMs: number;
  /** Expiry of a session created locally when the caller gives none. */
  defaultSessionTtlMs: number;
  maxSigners: number;
  /** Sessions held in memory (active and recently finished). */
  maxSessions: number;
  /** Requests awaiting the local user's decision. */
  maxPendingApprovals: number;
  /** Requests awaiting decision from one creator, so one co-signer cannot fill the queue. */
  maxPendingPerCreator: number;
  /** Attempts per session (1 + resumes). */
  maxAttempts: number;
  /** Per-peer token bucket on inbound frames. */
  ratePerPeerPerSecond: number;
  rateBurst: number;
  /** Peers whose rate state is kept (least recently seen are forgotten first). */
  maxTrackedPeers: number;
  /** Session messages held while their announcement has not arrived yet. */
  maxOrphanFrames: number;
  maxOrphansPerPeer: number;
  orphanTtlMs: number;
  /** Operations queued on one session; beyond it inbound frames are dropped (RATE_LIMITED). */
  maxQueuedPerSession: number;
  /** Ended sessions created longer ago than this are deleted from the store (retention.ts). */
  recordRetentionMs: number;
  /** Session records kept at most; the oldest ended ones beyond it are deleted (retention.ts). */
  maxStoredRecords: number;
  autoApprove: AutoApprovePolicy | undefined;
  /** The Bitcoin network this node signs transactions for: a PSBT request naming another is refused
   *  (its creator could otherwise show mainnet coins as test coins). Undefined accepts any. */
  bitcoinNetwork: BitcoinNetwork | undefined;
  /** This node's policy on PSBT inputs asking for a sighash type other than DEFAULT, read at each
   *  intake (the app reads its setting): they are signed only when it says yes and the creator's
   *  request allows them too. Undefined refuses them. */
  allowNonDefaultSighash: (() => boolean) | undefined;
}

export const DEFAULT_OPTIONS: Readonly<CoordinatorOptions> = Object.freeze({
  enableReplayProtection: true,
  maxSequenceGap: 100,
  timestampWindowMs: 5 * MINUTE,
  enableAutoCleanup: true,
  cleanupIntervalMs: MINUTE,
  stuckSessionTimeoutMs: 10 * MINUTE,
  sessionTimeoutMs: 2 * HOUR,
  defaultSessionTtlMs: HOUR,
  maxSigners: 16,
  maxSessions: 256,
  maxPendingApprovals: 32,
  maxPendingPerCreator: 8,
  maxAttempts: 5,
  ratePerPeerPerSecond: 50,
  rateBurst: 200,
  maxTrackedPeers: 1024,
  maxOrphanFrames: 256,
  maxOrphansPerPeer: 64,
  orphanTtlMs: 2 * MINUTE,
  maxQueuedPerSession: 256,
  recordRetentionMs: 90 * 24 * HOUR,
  maxStoredRecords: 1000,
  autoApprove: undefined,
  bitcoinNetwork: undefined,
  allowNonDefaultSighash: undefined,
});

const POSITIVE_INTEGERS = [
  'maxSequenceGap',
  'timestampWindowMs',
  'cleanupIntervalMs',
  'stuckSessionTimeoutMs',
  'sessionTimeoutMs',
  'defaultSessionTtlMs',
  'maxSessions',
  'maxPendingApprovals',
  'maxPendingPerCreator',
  'maxAttempts',
  'ratePerPeerPerSecond',
  'rateBurst',
  'maxTrackedPeers',
  'maxOrphanFrames',
  'maxOrphansPerPeer',
  'orphanTtlMs',
  'maxQueuedPerSession',
  'recordRetentionMs',
  'maxStoredRecords',
] as const satisfies readonly (keyof CoordinatorOptions)[];

export function resolveOptions(partial: Partial<CoordinatorOptions> = {}): CoordinatorOptions {
  const options: CoordinatorOptions = { ...DEFAULT_OPTIONS, ...partial };
  for (const key of POSITIVE_INTEGERS) {
    const value = options[key];
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new CosignerError('INVALID_INPUT', `option ${key} must be a positive integer`, { option: key });
    }
  }
  if (!Number.isInteger(options.maxSigners) || options.maxSigners < 2 || options.maxSigners > PROTOCOL_MAX_SIGNERS) {
    throw new CosignerError('INVALID_INPUT', `option maxSigners must be within 2..${PROTOCOL_MAX_SIGNERS}`, {
      option: 'maxSigners',
    });
  }
  if (options.maxPendingApprovals > options.maxSessions) {
    throw new CosignerError('INVALID_INPUT', 'maxPendingApprovals cannot exceed maxSessions', {
      option: 'maxPendingApprovals',
    });
  }
  if (options.defaultSessionTtlMs > options.sessionTimeoutMs) {
    throw new CosignerError('INVALID_INPUT', 'defaultSessionTtlMs cannot exceed sessionTimeoutMs', {
      option: 'defaultSessionTtlMs',
    });
  }
  if (options.maxAttempts > MAX_U32) {
    throw new CosignerError('INVALID_INPUT', 'maxAttempts is a u32 on the wire', { option: 'maxAttempts' });
  }
  return options;
}
