/**
 * Which stored session records to delete (docs/PROTOCOL.md §Persistence): ended sessions past the
 * retention age, and the oldest ended ones beyond the record count. Pure: the coordinator's sweep
 * applies the choice.
 */
import { isTerminal, type Phase } from './state.ts';

const DAY = 24 * 3_600_000;

/**
 * No record is deleted younger than this (or the session timeout, if longer). An announcement is
 * accepted as new unless it is older than the session timeout or its record exists, so deleting a
 * younger record would let its announcement be replayed as a new request; 7 days is the longest
 * session timeout the settings allow, so a later change of that setting reopens nothing.
 */
export const REPLAY_HORIZON_MS = 7 * DAY;

/** Records deleted by one sweep at most: a first start over a large store spreads its work over sweeps. */
export const MAX_DELETIONS_PER_SWEEP = 256;

export interface RetentionPolicy {
  /** Ended sessions created longer ago than this are deleted. */
  maxAgeMs: number;
  /** Records kept at most (open sessions count, but are never deleted). */
  maxRecords: number;
  /** Nothing younger than this is deleted (max of REPLAY_HORIZON_MS and the session timeout). */
  protectedMs: number;
}

export interface Retainable {
  sessionId: string;
  createdAt: number;
  phase: Phase;
}

/** The records to delete now, oldest first, at most `max`. An open session is never chosen. */
export function recordsToDelete(
  entries: Iterable<Retainable>,
  now: number,
  policy: RetentionPolicy,
  max = MAX_DELETIONS_PER_SWEEP,
): string[] {
  const newestFirst = [...entries].sort((a, b) => b.createdAt - a.createdAt || (a.sessionId < b.sessionId ? -1 : 1));
  const chosen: string[] = [];
  newestFirst.forEach((entry, position) => {
    const age = now - entry.createdAt;
    if (!isTerminal(entry.phase) || age < policy.protectedMs) return;
    if (age >= policy.maxAgeMs || position >= policy.maxRecords) chosen.push(entry.sessionId);
  });
  return chosen.reverse().slice(0, max);
}
