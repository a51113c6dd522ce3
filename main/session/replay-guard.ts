/**
 * Replay protection for session messages (docs/PROTOCOL.md §Replay protection): per (session, sender)
 * sequence numbers must strictly increase, by at most `maxSequenceGap`, and a message's timestamp must
 * be within the window around local time. One tracker per session: sessions cannot affect each other.
 */
import { CosignerError } from '../errors.ts';
import { MAX_U32 } from './limits.ts';

export interface ReplayOptions {
  enableReplayProtection: boolean;
  maxSequenceGap: number;
  timestampWindowMs: number;
}

export class SequenceTracker {
  readonly #options: ReplayOptions;
  /** Last accepted sequence number per signer index; 0 = none yet (numbers start at 1). */
  readonly #last: number[];

  constructor(signerCount: number, options: ReplayOptions, restored?: readonly number[]) {
    this.#options = options;
    this.#last = Array.from({ length: signerCount }, (_, i) => restored?.[i] ?? 0);
  }

  /** Throws REPLAYED or SEQUENCE_GAP, or records `sequence` as the sender's latest. */
  accept(sender: number, sequence: number): void {
    if (!this.#options.enableReplayProtection) return;
    const last = this.#last[sender];
    if (last === undefined) throw new CosignerError('NOT_A_SIGNER', 'no signer at this index', { sender });
    if (sequence <= last) {
      throw new CosignerError('REPLAYED', 'sequence number already used', { sender, sequence, last });
    }
    if (sequence - last > this.#options.maxSequenceGap) {
      throw new CosignerError('SEQUENCE_GAP', 'sequence number jumps too far ahead', { sender, sequence, last });
    }
    this.#last[sender] = sequence;
  }

  /** For the session record, so a restarted node keeps rejecting what it had already seen. */
  snapshot(): number[] {
    return [...this.#last];
  }
}

export function checkTimestamp(timestamp: number, now: number, options: ReplayOptions): void {
  if (!options.enableReplayProtection) return;
  if (Math.abs(timestamp - now) > options.timestampWindowMs) {
    throw new CosignerError('TIMESTAMP_OUT_OF_WINDOW', 'message time is too far from local time', {
      timestamp,
      now,
      windowMs: options.timestampWindowMs,
    });
  }
}

/** The sequence number after `current` for a local message; u32 on the wire, so it can run out. */
export function nextSequence(current: number): number {
  if (current >= MAX_U32) throw new CosignerError('LIMIT_REACHED', 'sequence numbers exhausted for this session');
  return current + 1;
}
