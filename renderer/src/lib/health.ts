/**
 * The node's and the coordinator's counters in words for the home screen: what was refused and
 * why, and what went wrong, each only when it happened.
 */
import { SessionPhase, type Health, type NodeStatus, type PeerBan } from '../../../preload/contract.ts';
import { isTerminal, PHASE_LABELS } from './phases.ts';

type Coordinator = Health['coordinator'];

export interface CountRow {
  /** The back end's own name for it (a reject reason or an error code), for support. */
  key: string;
  label: string;
  count: number;
}

/** Inbound frames the node refused (main/p2p/wire.ts REJECT_REASONS). */
const FRAME_REASONS: Readonly<Record<string, string>> = {
  oversized: 'Too large',
  malformed: 'Unreadable',
  'unsupported-version': 'From an incompatible version',
  'unknown-type': 'Of an unknown kind',
  'unexpected-type': 'Not expected at that point',
  'bad-card': 'Invalid signer card',
  'rate-limited': 'Too many at once from one peer',
  timeout: 'Too slow to arrive',
  'dht-rollback': 'DHT records older than the ones kept',
};

/** Session messages the coordinator refused, by error code (main/errors.ts). */
const MESSAGE_REASONS: Readonly<Record<string, string>> = {
  MALFORMED_MESSAGE: 'Unreadable',
  OVERSIZED_MESSAGE: 'Too large',
  UNSUPPORTED_VERSION: 'From an incompatible version',
  BAD_SIGNATURE: 'Not signed by their sender',
  WRONG_PEER: 'From a computer not bound to the signer',
  UNKNOWN_GROUP: 'For signers not in a saved group',
  WRONG_PATH: "Naming signers that are not the group path's",
  NOT_A_SIGNER: 'From a key that is not a signer',
  REPLAYED: 'Received twice',
  SEQUENCE_GAP: 'Out of order',
  TIMESTAMP_OUT_OF_WINDOW: "Sender's clock too far off",
  UNKNOWN_SESSION: 'For a request not known here',
  WRONG_PHASE: 'For a step already over',
  STALE_ATTEMPT: 'From an earlier attempt',
  EXPIRED: 'For an expired request',
  RATE_LIMITED: 'Too many at once',
  LIMIT_REACHED: 'Over a limit',
  INVALID_PUBLIC_NONCE: 'Invalid nonce',
  INVALID_PARTIAL_SIGNATURE: 'Invalid partial signature',
  EQUIVOCATION: 'Contradicting an earlier answer',
  INVALID_PUBLIC_KEY: 'Invalid public key',
};

function rows(counts: Record<string, number>, labels: Readonly<Record<string, string>>): CountRow[] {
  return Object.entries(counts)
    .filter(([, count]) => count > 0)
    .map(([key, count]) => ({ key, label: labels[key] ?? key, count }))
    .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
}

/** What the node refused from peers: frames by reason, and DHT records that would replace a newer one. */
export function rejectedFrames(node: NodeStatus): CountRow[] {
  return rows({ ...node.rejectedFrames, 'dht-rollback': node.dhtStore.rollbacksRefused }, FRAME_REASONS);
}

/** The ban in force on the computer of this signer key, if any. */
export function banOf(node: NodeStatus | undefined, publicKey: string): PeerBan | undefined {
  return node?.bans.find((ban) => ban.signers.includes(publicKey));
}

/** Why a peer was banned, in words: "7 unreadable, 3 too slow to arrive" (its refused frames). */
export function banReason(ban: PeerBan): string {
  return rows(ban.reasons, FRAME_REASONS)
    .map((row) => `${row.count} ${row.label.toLowerCase()}`)
    .join(', ');
}

export function rejectedMessages(coordinator: Coordinator): CountRow[] {
  return rows(coordinator.rejectedMessages, MESSAGE_REASONS);
}

/** Failures on this computer since it started: none of them is a peer's doing. */
export function localProblems(node: NodeStatus | undefined, coordinator: Coordinator | undefined): CountRow[] {
  return [
    { key: 'sendFailures', label: 'Messages to co-signers that could not be sent', count: coordinator?.sendFailures ?? 0 },
    { key: 'inboxPublishFailures', label: 'Mailbox records that could not be published', count: node?.transport.inboxPublishFailures ?? 0 },
    { key: 'storageFailures', label: 'Requests that could not be saved to disk', count: coordinator?.storageFailures ?? 0 },
    { key: 'corruptRecords', label: 'Damaged request records skipped', count: coordinator?.corruptRecords ?? 0 },
    { key: 'sweepFailures', label: 'Clean-ups of old requests on disk that failed', count: coordinator?.sweepFailures ?? 0 },
    { key: 'listenerErrors', label: 'Internal errors while reporting progress', count: coordinator?.listenerErrors ?? 0 },
  ].filter((row) => row.count > 0);
}

/** "3 awaiting approval, 1 exchanging nonces" for the open sessions, and likewise for the ended ones; '' for none. */
export function phaseSummary(sessionsByPhase: Record<string, number>): { open: string; ended: string } {
  const phrase = (ended: boolean) =>
    SessionPhase.options
      .filter((phase) => isTerminal(phase) === ended && (sessionsByPhase[phase] ?? 0) > 0)
      .map((phase) => `${sessionsByPhase[phase]} ${PHASE_LABELS[phase].toLowerCase()}`)
      .join(', ');
  return { open: phrase(false), ended: phrase(true) };
}

export function total(list: readonly CountRow[]): number {
  return list.reduce((n, row) => n + row.count, 0);
}
