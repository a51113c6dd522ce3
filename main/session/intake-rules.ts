/**
 * The rules of the door through which requests (announcements) come in, kept apart from the
 * coordinator that applies them: which refusals are final, how long a refusal's DECLINE may travel,
 * and how many DECLINEs one creator can draw from this node (docs/PROTOCOL.md §Receiving).
 */
import { isCosignerError, type ErrorCode } from '../errors.ts';
import type { AnnouncementBody } from './codec.ts';
import type { InboundVerdict } from './ports.ts';
import { PeerRateLimiter } from './rate-limiter.ts';

/**
 * Codes that the same announcement would get again whoever delivered it and whenever: its sender may
 * stop. Every other code (WRONG_PEER, UNKNOWN_GROUP, LIMIT_REACHED, RATE_LIMITED, a clock ahead of
 * ours, the disk) can change, so the frame is asked for again rather than lost: a copy front-run by
 * a stranger, or refused while the pending requests were full, must not shadow the genuine delivery.
 */
const FINAL_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'MALFORMED_MESSAGE',
  'OVERSIZED_MESSAGE',
  'UNSUPPORTED_VERSION',
  'TOO_MANY_SIGNERS',
  'INVALID_PUBLIC_KEY',
  'DUPLICATE_SIGNER',
  'BAD_SIGNATURE',
  'NOT_A_SIGNER',
  'EXPIRED',
  'REPLAYED',
  'INVALID_PSBT',
  'PSBT_REFUSED',
  // The named group's id fixes its keys and policy, so its path's signers never change.
  'WRONG_PATH',
]);

/** The verdict on an announcement the coordinator rejected with `e`. */
export function verdictOf(e: unknown): InboundVerdict {
  return isCosignerError(e) && FINAL_CODES.has(e.code) ? 'refused' : 'retry';
}

/** No session outlives createdAt + the local session timeout, whatever expiry its creator announced;
 *  nothing sent for it needs to travel longer. */
export function deadlineOf(body: AnnouncementBody, sessionTimeoutMs: number): number {
  return Math.min(body.expiresAt, body.createdAt + sessionTimeoutMs);
}

/** DECLINEs one creator can draw by requests this node refuses on reading them, per window. */
export const REFUSALS_PER_CREATOR = 4;
export const REFUSAL_WINDOW_MS = 10 * 60_000;
/** Creators whose refusal count is kept (only co-signers of saved groups get this far). */
const TRACKED_CREATORS = 1024;

/** A token bucket per creator key: REFUSALS_PER_CREATOR at once, then one per window / count. */
export function refusalLimiter(): PeerRateLimiter {
  return new PeerRateLimiter({
    ratePerSecond: REFUSALS_PER_CREATOR / (REFUSAL_WINDOW_MS / 1000),
    burst: REFUSALS_PER_CREATOR,
    maxPeers: TRACKED_CREATORS,
  });
}
