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

/**
 * A session cut off mid-exchange (every signer had approved, nobody was blamed, time remains)
 * can start a new attempt with fresh nonces; the back end decides in the end.
 */
export function canResume(s: SessionSnapshot, now: number): boolean {
  return (
    (s.phase === 'ABORTED' || s.phase === 'EXPIRED') &&
    s.signers.every((x) => x.approved) &&
    (s.failure === null || s.failure.blamedSignerIndex === null) &&
    now < s.expiresAt
  );
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
