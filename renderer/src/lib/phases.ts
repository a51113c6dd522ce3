/**
 * What a session's phase means to the user: the steps of the timeline, how far a failed session
 * got, whether it is waiting for this user, and whether it can be resumed.
 */
import type { SessionPhase, SessionSnapshot } from '../../../preload/contract.ts';

export const STEPS = ['AWAITING_APPROVAL', 'NONCE_EXCHANGE', 'PARTIAL_SIG_EXCHANGE', 'COMPLETE'] as const;
export type Step = (typeof STEPS)[number];

export const PHASE_LABELS: Readonly<Record<SessionPhase, string>> = {
  AWAITING_APPROVAL: 'Awaiting approval',
  NONCE_EXCHANGE: 'Exchanging nonces',
  PARTIAL_SIG_EXCHANGE: 'Exchanging partial signatures',
  COMPLETE: 'Signed',
  ABORTED: 'Stopped',
  DECLINED: 'Declined',
  EXPIRED: 'Expired',
};

export const STEP_LABELS: Readonly<Record<Step, string>> = {
  AWAITING_APPROVAL: 'Approval',
  NONCE_EXCHANGE: 'Nonces',
  PARTIAL_SIG_EXCHANGE: 'Partial signatures',
  COMPLETE: 'Signed',
};

export function isTerminal(phase: SessionPhase): boolean {
  return phase === 'COMPLETE' || phase === 'ABORTED' || phase === 'DECLINED' || phase === 'EXPIRED';
}

export function isFailure(phase: SessionPhase): boolean {
  return phase === 'ABORTED' || phase === 'DECLINED' || phase === 'EXPIRED';
}

/** The step a session is at, or for a failed one the step it had reached when it stopped. */
export function reachedStep(s: SessionSnapshot): Step {
  if (!isFailure(s.phase)) return s.phase as Step;
  if (s.signers.some((x) => x.partialSignatureReceived) || s.signers.every((x) => x.nonceReceived)) {
    return 'PARTIAL_SIG_EXCHANGE';
  }
  if (s.signers.every((x) => x.approved)) return 'NONCE_EXCHANGE';
  return 'AWAITING_APPROVAL';
}

/** Waiting for this user's decision. */
export function awaitsMyApproval(s: SessionSnapshot): boolean {
  return s.phase === 'AWAITING_APPROVAL' && s.signers.some((x) => x.isLocal && !x.approved);
}

export function isExchange(phase: SessionPhase): boolean {
  return phase === 'NONCE_EXCHANGE' || phase === 'PARTIAL_SIG_EXCHANGE';
}

/** How long an exchange must have made no progress before the UI offers to resume it. */
export const RESUME_AFTER_MS = 30_000;

/**
 * A session still open in an exchange phase that has not moved for a while (a co-signer's app,
 * or this one, restarted and lost its nonces) can start a new attempt with fresh nonces. An ended
 * session cannot: the back end ends a stalled one as ABORTED (SESSION_STUCK) for good.
 */
export function canResume(s: SessionSnapshot, now: number): boolean {
  return isExchange(s.phase) && now < s.expiresAt && now - s.updatedAt >= RESUME_AFTER_MS;
}

/** How to speak of the signer a failure points at, by what the failure was: a heading and a row note. */
export function blameWords(code: string): { heading: string; note: string } {
  if (code === 'DECLINED') return { heading: 'Declined by', note: 'Declined' };
  if (code === 'EXPIRED' || code === 'SESSION_STUCK') return { heading: 'Did not answer in time', note: 'Did not answer in time' };
  return { heading: 'Blamed', note: 'Blamed for the failure' };
}

/** The file a user exports for a finished session: everything a verifier needs, nothing secret. */
export function sessionExport(s: SessionSnapshot): string {
  return JSON.stringify(
    {
      sessionId: s.sessionId,
      description: s.description,
      messages: s.messages,
      signingKey: s.signingKey,
      tweak: s.tweak,
      signers: s.signers.map((x) => x.publicKey),
      signatures: s.signatures,
      createdAt: new Date(s.createdAt).toISOString(),
    },
    null,
    2,
  );
}
