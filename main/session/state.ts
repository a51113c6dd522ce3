/**
 * The session state machine as pure data and pure transitions (docs/PROTOCOL.md §State machine).
 * No crypto, no I/O, no clock: the coordinator passes `now` and does the signing, storing and sending.
 * Secrets never enter this state: it is exactly what may be stored and shown.
 */
import { SessionPhase } from '../../preload/contract.ts';
import type { NonceEvidence } from './codec.ts';

/** The phases are the contract's: what the UI shows is what the state machine has. */
export const PHASES = SessionPhase.options;
export type Phase = (typeof PHASES)[number];

const TERMINAL: ReadonlySet<Phase> = new Set(['COMPLETE', 'ABORTED', 'DECLINED', 'EXPIRED']);
const EXCHANGE: ReadonlySet<Phase> = new Set(['NONCE_EXCHANGE', 'PARTIAL_SIG_EXCHANGE']);

export function isTerminal(phase: Phase): boolean {
  return TERMINAL.has(phase);
}

export function isExchange(phase: Phase): boolean {
  return EXCHANGE.has(phase);
}

/** Why a session ended without a signature. */
export interface Failure {
  /** An ErrorCode (EXPIRED, SESSION_STUCK, DECLINED, EQUIVOCATION, INVALID_PARTIAL_SIGNATURE, ...), or
   *  the code a remote signer's ABORT carried. */
  readonly code: string;
  readonly reason: string;
  /** Signer indices at fault (for DECLINED: who declined). Empty when no signer is to blame. */
  readonly blame: readonly number[];
  /** Signer index that ended the session: the local index when this node detected it. */
  readonly reportedBy: number;
  /** This node checked the blame itself (a contribution it verified, a signer's own signed decline,
   *  a wait it timed out on). False for a remote ABORT: its blame is the reporter's claim, which an
   *  honest node cannot check and a malicious signer could aim at anyone. */
  readonly verified: boolean;
}

export interface SessionState {
  readonly phase: Phase;
  /** Attempts start at 1; a resume starts the next one, in which everyone makes fresh nonces. */
  readonly attempt: number;
  /** This node can act in no attempt ≤ this one: it restarted during it and lost its secret nonces. */
  readonly attemptFloor: number;
  /** Per signer; approval is for the session (its content), so it carries over to new attempts. */
  readonly approved: readonly boolean[];
  /** Per signer, this attempt: the signed NONCES message received (or sent, for the local signer). */
  readonly nonces: readonly (NonceEvidence | undefined)[];
  /** Per signer, this attempt: one 32-byte partial signature per message. */
  readonly partials: readonly (readonly Uint8Array[] | undefined)[];
  /** One 64-byte BIP340 signature per message, once COMPLETE. */
  readonly signatures: readonly Uint8Array[];
  readonly failure: Failure | undefined;
  readonly phaseSince: number;
  readonly updatedAt: number;
  /** Increases with every change, across restarts too (see `touch`): UIs drop older snapshots. */
  readonly version: number;
}

export function initialState(signerCount: number, creatorIndex: number, now: number): SessionState {
  return {
    phase: 'AWAITING_APPROVAL',
    attempt: 1,
    attemptFloor: 0,
    // Signing the announcement is the creator's approval.
    approved: Array.from({ length: signerCount }, (_, i) => i === creatorIndex),
    nonces: Array.from({ length: signerCount }, () => undefined),
    partials: Array.from({ length: signerCount }, () => undefined),
    signatures: [],
    failure: undefined,
    phaseSince: now,
    updatedAt: now,
    version: now,
  };
}

/** Versions are max(previous + 1, now): increasing within a run, and after a restart too, unless the
 *  wall clock went back, without having to store every progress change. */
function touch(state: SessionState, patch: Partial<SessionState>, now: number): SessionState {
  const next = { ...state, ...patch, updatedAt: now, version: Math.max(state.version + 1, now) };
  return next.phase === state.phase ? next : { ...next, phaseSince: now };
}

function setAt<T>(list: readonly T[], index: number, value: T): T[] {
  const copy = [...list];
  copy[index] = value;
  return copy;
}

function sameBytes(a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean {
  return (
    a.length === b.length &&
    a.every((x, i) => {
      const y = b[i] as Uint8Array;
      return x.length === y.length && x.every((byte, j) => byte === y[j]);
    })
  );
}

/** The phase the collected contributions call for (terminal phases are left alone). */
export function derivePhase(state: SessionState): Phase {
  if (isTerminal(state.phase)) return state.phase;
  if (!state.approved.every(Boolean)) return 'AWAITING_APPROVAL';
  if (!state.nonces.every((n) => n !== undefined)) return 'NONCE_EXCHANGE';
  return 'PARTIAL_SIG_EXCHANGE';
}

export function withPhase(state: SessionState, now: number): SessionState {
  const phase = derivePhase(state);
  return phase === state.phase ? state : touch(state, { phase }, now);
}

export function approve(state: SessionState, signer: number, now: number): SessionState {
  return state.approved[signer] ? state : touch(state, { approved: setAt(state.approved, signer, true) }, now);
}

export type Recorded = { kind: 'new'; state: SessionState } | { kind: 'duplicate' } | { kind: 'equivocation' };

/** A signer's nonces for the current attempt; sending any implies the signer approved. */
export function recordNonces(state: SessionState, signer: number, evidence: NonceEvidence, now: number): Recorded {
  const held = state.nonces[signer];
  if (held !== undefined) return sameBytes(held.nonces, evidence.nonces) ? { kind: 'duplicate' } : { kind: 'equivocation' };
  const approved = approve(state, signer, now);
  return { kind: 'new', state: touch(approved, { nonces: setAt(approved.nonces, signer, evidence) }, now) };
}

export function recordPartials(state: SessionState, signer: number, partials: readonly Uint8Array[], now: number): Recorded {
  const held = state.partials[signer];
  if (held !== undefined) return sameBytes(held, partials) ? { kind: 'duplicate' } : { kind: 'equivocation' };
  return { kind: 'new', state: touch(state, { partials: setAt(state.partials, signer, partials) }, now) };
}

/** Starts `attempt` (of a session not ended): every nonce and partial signature of the previous one is
 *  forgotten, and the stuck timer starts again. */
export function startAttempt(state: SessionState, attempt: number, now: number): SessionState {
  const cleared: SessionState = {
    ...state,
    attempt,
    nonces: state.nonces.map(() => undefined),
    partials: state.partials.map(() => undefined),
  };
  return touch(state, { ...cleared, phase: derivePhase(cleared), phaseSince: now }, now);
}

export function complete(state: SessionState, signatures: readonly Uint8Array[], now: number): SessionState {
  return touch(state, { phase: 'COMPLETE', signatures }, now);
}

export function end(state: SessionState, phase: 'ABORTED' | 'DECLINED' | 'EXPIRED', failure: Failure, now: number): SessionState {
  return touch(state, { phase, failure }, now);
}

/** Whether this node can take part in the current attempt (it cannot after losing its nonces in a restart). */
export function canAct(state: SessionState): boolean {
  return state.attempt > state.attemptFloor;
}

/** Signers whose contribution the current phase is waiting for. */
export function missing(state: SessionState): number[] {
  const list =
    state.phase === 'AWAITING_APPROVAL'
      ? state.approved.map((done) => !done)
      : state.phase === 'NONCE_EXCHANGE'
        ? state.nonces.map((n) => n === undefined)
        : state.phase === 'PARTIAL_SIG_EXCHANGE'
          ? state.partials.map((p) => p === undefined)
          : [];
  return list.flatMap((isMissing, i) => (isMissing ? [i] : []));
}

export interface Deadlines {
  /** min(announced expiry, creation + local sessionTimeout). */
  expiresAt: number;
  stuckSessionTimeoutMs: number;
}

/**
 * The end a timeout calls for at `now`, if any: EXPIRED past the deadline (pending approvals included),
 * ABORTED (SESSION_STUCK) after too long in one exchange phase of one attempt.
 */
export function timeoutOf(
  state: SessionState,
  localIndex: number,
  deadlines: Deadlines,
  now: number,
): { phase: 'EXPIRED' | 'ABORTED'; failure: Failure } | undefined {
  if (isTerminal(state.phase)) return undefined;
  const blame = missing(state);
  if (now >= deadlines.expiresAt) {
    return {
      phase: 'EXPIRED',
      failure: { code: 'EXPIRED', reason: `expired in ${state.phase}`, blame, reportedBy: localIndex, verified: true },
    };
  }
  if (isExchange(state.phase) && now - state.phaseSince >= deadlines.stuckSessionTimeoutMs) {
    return {
      phase: 'ABORTED',
      failure: { code: 'SESSION_STUCK', reason: `no progress in ${state.phase}`, blame, reportedBy: localIndex, verified: true },
    };
  }
  return undefined;
}
