/**
 * What a session's phase means to the user: the steps of the timeline, how far a failed session
 * got, who its failure names, and whether this user may cancel it.
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

export function isExchange(phase: SessionPhase): boolean {
  return phase === 'NONCE_EXCHANGE' || phase === 'PARTIAL_SIG_EXCHANGE';
}

/** How long an exchange may sit at one step before it is offered to start again (it normally takes a second). */
export const STUCK_AFTER_MS = 30_000;

/**
 * Whether to offer starting the exchange again: the node says it can (`resumable`), and it is
 * interrupted (this computer restarted) or has sat at one step for STUCK_AFTER_MS. Earlier, a new
 * attempt would only throw away an exchange that is still going.
 */
export function offersResume(s: SessionSnapshot, now: number): boolean {
  return s.resumable && (s.interrupted || now - s.phaseSince >= STUCK_AFTER_MS);
}

/** The local user may end the session for everyone: it is still open and they are one of its signers. */
export function canCancel(s: SessionSnapshot): boolean {
  return !isTerminal(s.phase) && s.signers.some((x) => x.isLocal);
}

/**
 * How to speak of a failure's parties: who it points at (a heading and a row note), and who ended it.
 * A verdict ("Blamed", "Declined by") only when this node checked the blame itself (`verified`); a
 * remote ABORT's blame is what its reporter says, whatever code it carried, and is worded after the
 * reporter's name ("Carol says …"): a malicious signer could name anyone.
 */
export function blameWords(code: string, verified: boolean): { heading: string; note: string; reporter: string } {
  if (!verified)
    return { heading: 'says the fault was with', note: 'says this signer is at fault (not checked by this app)', reporter: 'Stopped by' };
  if (code === 'DECLINED') return { heading: 'Declined by', note: 'Declined', reporter: 'Reported by' };
  if (code === 'EXPIRED' || code === 'SESSION_STUCK') {
    return { heading: 'Did not answer in time', note: 'Did not answer in time', reporter: 'Noticed by' };
  }
  if (code === 'ABORTED') return { heading: 'Blamed', note: 'Blamed for the failure', reporter: 'Cancelled by' };
  return { heading: 'Blamed', note: 'Blamed for the failure', reporter: 'Reported by' };
}

type Signer = SessionSnapshot['signers'][number];

/**
 * The signers a failure names: every one blamed, and the one whose node ended the session. For a
 * verdict the reporter is left out when it is all the blame says (whoever declines reports their own
 * decline); for a claim (`claim`) the reporter is who speaks, so it is always named.
 */
export function failureParties(s: SessionSnapshot): { blamed: Signer[]; reporter: Signer | undefined; claim: boolean } {
  const f = s.failure;
  if (f === null) return { blamed: [], reporter: undefined, claim: false };
  const at = (index: number) => s.signers.find((x) => x.index === index);
  const blamed = [...new Set(f.blame)].flatMap((i) => at(i) ?? []);
  const claim = !f.verified;
  const reportsOnlyItself = f.blame.length > 0 && f.blame.every((i) => i === f.reportedBy);
  return { blamed, reporter: reportsOnlyItself && !claim ? undefined : at(f.reportedBy), claim };
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
      bip322: s.bip322 ?? null,
      createdAt: new Date(s.createdAt).toISOString(),
    },
    null,
    2,
  );
}
