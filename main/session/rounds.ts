/**
 * The signing rounds of a session (docs/PROTOCOL.md): approval, NONCES, PARTIAL_SIGS with the nonce
 * evidence they were made against, aggregation and the end of a session (COMPLETE, or an end that
 * tells the others). Each function runs inside the session's queue.
 */
import { CosignerError, isCosignerError } from '../errors.ts';
import { discardSecretNonce, verifySignature } from '../musig/index.ts';
import type { MessageBody, NonceEvidence, SessionMessage } from './codec.ts';
import { MAX_REASON_BYTES } from './limits.ts';
import { nonceEvidenceValid } from './messages.ts';
import { aggregatePartials, invalidNonceIndex, makeNonces, signingBatch, signPartials, type Batch } from './session-crypto.ts';
import {
  approve as approveState,
  canAct,
  complete,
  derivePhase,
  end,
  isTerminal,
  recordNonces,
  recordPartials,
  startAttempt,
  timeoutOf,
  withPhase,
  type Failure,
  type Phase,
  type SessionState,
} from './state.ts';
import { fail, clip, sameNonces, type Live, type Outcome } from './live.ts';
import type { SessionContext } from './context.ts';
import { commit } from './persistence.ts';

export async function receiveContribution(ctx: SessionContext, live: Live, m: SessionMessage, signature: Uint8Array): Promise<void> {
  const now = ctx.clock.now();
  // Approval is for the session, so any contribution, of any attempt, says its sender approved.
  let state = approveState(live.state, m.sender, now);
  if (m.attempt <= state.attemptFloor || m.attempt < state.attempt) {
    if (state !== live.state) {
      await commit(ctx, live, withPhase(state, now));
      await advance(ctx, live);
    }
    throw new CosignerError('STALE_ATTEMPT', 'message of an attempt this node cannot act in', { attempt: m.attempt });
  }
  if (m.attempt > state.attempt) {
    ctx.dropSecrets(live);
    state = startAttempt(state, m.attempt, now);
  }
  const outcome =
    m.body.type === 'nonces'
      ? acceptNonces(ctx, live, state, m.sender, {
          sequence: m.sequence,
          timestamp: m.timestamp,
          signature,
          nonces: m.body.nonces,
        })
      : m.body.type === 'partials'
        ? acceptPartials(ctx, live, state, m)
        : { state };
  if ('failure' in outcome) {
    await endWithAbort(ctx, live, 'ABORTED', outcome.failure);
    return;
  }
  if (outcome.state !== live.state) await commit(ctx, live, withPhase(outcome.state, now));
  await advance(ctx, live);
}

export function acceptNonces(ctx: SessionContext, live: Live, state: SessionState, sender: number, evidence: NonceEvidence): Outcome {
  const local = live.localIndex;
  if (evidence.nonces.length !== live.messages.length) {
    return fail(
      'MALFORMED_MESSAGE',
      `signer ${sender} sent ${evidence.nonces.length} nonces for ${live.messages.length} messages`,
      [sender],
      local,
    );
  }
  const bad = invalidNonceIndex(evidence.nonces);
  if (bad !== undefined) return fail('INVALID_PUBLIC_NONCE', `signer ${sender} sent an invalid nonce for message ${bad}`, [sender], local);
  const recorded = recordNonces(state, sender, evidence, ctx.clock.now());
  if (recorded.kind === 'equivocation') {
    return fail('EQUIVOCATION', `signer ${sender} sent two different nonces in attempt ${state.attempt}`, [sender], local);
  }
  return { state: recorded.kind === 'new' ? recorded.state : state };
}

/**
 * A PARTIAL_SIGS message carries the signed NONCES messages its sender signed with. Where they match
 * ours nothing is checked; a nonce set we lack (its message was lost or overtaken) is adopted once its
 * signature checks; a different one with a valid signature proves its signer equivocated, and one with
 * an invalid signature proves the sender lies. So a signer who shows different nonces to different
 * peers is named, not the honest peer whose partial signature then fails to verify for us.
 */
export function acceptPartials(ctx: SessionContext, live: Live, state: SessionState, m: SessionMessage): Outcome {
  if (m.body.type !== 'partials') return { state };
  const { partials, evidence } = m.body;
  const { signers } = live.announcement.body;
  const local = live.localIndex;
  const count = live.messages.length;
  if (partials.length !== count || evidence.length !== signers.length || evidence.some((e) => e.nonces.length !== count)) {
    return fail('MALFORMED_MESSAGE', `signer ${m.sender} sent a partial signature message of the wrong shape`, [m.sender], local);
  }
  let next = state;
  for (const [i, e] of evidence.entries()) {
    const held = next.nonces[i];
    if (held !== undefined && sameNonces(held.nonces, e.nonces)) continue;
    if (!nonceEvidenceValid(live.announcement.id, i, m.attempt, e, signers[i] as Uint8Array, ctx.verifier)) {
      return fail('BAD_SIGNATURE', `signer ${m.sender} forwarded nonces signer ${i} did not sign`, [m.sender], local);
    }
    if (i === local) {
      return fail(
        'EQUIVOCATION',
        'this signer key signed nonces this node did not make: is the key in use on another device?',
        [local],
        local,
      );
    }
    if (held !== undefined) {
      return fail('EQUIVOCATION', `signer ${i} signed two different nonces in attempt ${m.attempt}`, [i], local);
    }
    const adopted = acceptNonces(ctx, live, next, i, e);
    if ('failure' in adopted) return adopted;
    next = adopted.state;
  }
  const recorded = recordPartials(next, m.sender, partials, ctx.clock.now());
  if (recorded.kind === 'equivocation') {
    return fail('EQUIVOCATION', `signer ${m.sender} sent two different partial signatures in attempt ${m.attempt}`, [m.sender], local);
  }
  return { state: recorded.kind === 'new' ? recorded.state : next };
}

export async function approveLocally(ctx: SessionContext, live: Live): Promise<void> {
  const now = ctx.clock.now();
  const state = withPhase(approveState(live.state, live.localIndex, now), now);
  // The last approval starts the nonce exchange at once, and this node's NONCES say it approved
  // (any contribution does): an APPROVE too would only cost every peer one more message to check.
  const noncesFollow = state.phase === 'NONCE_EXCHANGE' && canAct(state);
  await commit(ctx, live, state, noncesFollow ? [] : [ctx.message(live, state.attempt, { type: 'approve' }, now).frame]);
  await advance(ctx, live);
}

/** Contributes whatever the current phase needs from this node, and finishes when everything is in. */
export async function advance(ctx: SessionContext, live: Live): Promise<void> {
  for (;;) {
    const { state } = live;
    if (isTerminal(state.phase) || !canAct(state)) return;
    const phase = derivePhase(state);
    const local = live.localIndex;
    if (phase === 'NONCE_EXCHANGE' && state.nonces[local] === undefined) {
      await contributeNonces(ctx, live);
    } else if (phase === 'PARTIAL_SIG_EXCHANGE' && state.partials[local] === undefined) {
      if (!(await contributePartials(ctx, live))) return;
    } else if (phase === 'PARTIAL_SIG_EXCHANGE' && state.partials.every((p) => p !== undefined)) {
      await finish(ctx, live);
      return;
    } else {
      if (phase !== state.phase) await commit(ctx, live, withPhase(state, ctx.clock.now()));
      return;
    }
  }
}

/** Fresh nonces for this attempt. The record says NONCE_EXCHANGE before they leave this node, so a
 *  restart from here on can never make a second set for the same attempt. */
export async function contributeNonces(ctx: SessionContext, live: Live): Promise<void> {
  const now = ctx.clock.now();
  const state = withPhase(live.state, now);
  const secretKey = ctx.signer.secretKey();
  let made: ReturnType<typeof makeNonces> | undefined;
  let sent: { frame: Uint8Array; sequence: number };
  try {
    made = makeNonces(ctx.keysOf(live), live.announcement.id, state.attempt, secretKey);
    sent = ctx.message(live, state.attempt, { type: 'nonces', nonces: made.publicNonces }, now, secretKey);
  } catch (e) {
    // Made but never sent: dropped here, zeroed.
    made?.secretNonces.forEach(discardSecretNonce);
    throw e;
  } finally {
    secretKey.fill(0);
  }
  const evidence: NonceEvidence = {
    sequence: sent.sequence,
    timestamp: now,
    signature: sent.frame.slice(sent.frame.length - 64),
    nonces: made.publicNonces,
  };
  const recorded = recordNonces(state, live.localIndex, evidence, now);
  if (recorded.kind !== 'new') throw new CosignerError('INTERNAL', 'local nonces already recorded for this attempt');
  live.secrets = { attempt: state.attempt, nonces: made.secretNonces };
  await commit(ctx, live, withPhase(recorded.state, now), [sent.frame]);
}

/** Signs with this attempt's secret nonces (which the engine consumes), sends the partial signatures
 *  with the nonce messages they were made against. False when the session ended instead. */
export async function contributePartials(ctx: SessionContext, live: Live): Promise<boolean> {
  const now = ctx.clock.now();
  const { state } = live;
  const secrets = live.secrets;
  if (secrets === undefined || secrets.attempt !== state.attempt) {
    throw new CosignerError('INTERNAL', 'no secret nonces for the current attempt');
  }
  const batch = batchOf(ctx, live);
  if ('failure' in batch) {
    await endWithAbort(ctx, live, 'ABORTED', batch.failure);
    return false;
  }
  const evidence = state.nonces as readonly NonceEvidence[];
  const secretKey = ctx.signer.secretKey();
  let partials: Uint8Array[];
  let sent: { frame: Uint8Array; sequence: number };
  try {
    live.secrets = undefined;
    partials = signPartials(ctx.keysOf(live), batch.batch, live.localIndex, secretKey, secrets.nonces);
    sent = ctx.message(live, state.attempt, { type: 'partials', partials, evidence }, now, secretKey);
  } finally {
    secretKey.fill(0);
    // Signing consumed them, unless it refused them first: then they are dropped here.
    secrets.nonces.forEach(discardSecretNonce);
  }
  const recorded = recordPartials(state, live.localIndex, partials, now);
  if (recorded.kind !== 'new') throw new CosignerError('INTERNAL', 'local partial signatures already recorded');
  await commit(ctx, live, recorded.state, [sent.frame]);
  return true;
}

export async function finish(ctx: SessionContext, live: Live): Promise<void> {
  const now = ctx.clock.now();
  const { state } = live;
  const batch = batchOf(ctx, live);
  if ('failure' in batch) {
    await endWithAbort(ctx, live, 'ABORTED', batch.failure);
    return;
  }
  let signatures: Uint8Array[];
  try {
    signatures = aggregatePartials(ctx.keysOf(live), batch.batch, state.partials as readonly (readonly Uint8Array[])[]);
    // The engine verified them; checking again costs little and guards what is stored as final.
    // For a PSBT, each signature is verified under its input's output key as it is written into
    // the PSBT, which is then finalized.
    if (live.psbt) live.psbt.finish(signatures);
    else if (!signatures.every((sig, i) => verifySignature(sig, live.messages[i] as Uint8Array, live.verifyKeys[i] as Uint8Array))) {
      throw new CosignerError('SIGNATURE_INVALID', 'aggregate signature does not verify');
    }
  } catch (e) {
    if (!isCosignerError(e)) throw e;
    const blamed = e.code === 'INVALID_PARTIAL_SIGNATURE' ? e.context.signerIndex : undefined;
    await endWithAbort(ctx, live, 'ABORTED', {
      code: e.code,
      reason:
        typeof blamed === 'number'
          ? `signer ${blamed} sent an invalid partial signature for message ${String(e.context.messageIndex)}`
          : e.message,
      blame: typeof blamed === 'number' ? [blamed] : [],
      reportedBy: live.localIndex,
      verified: true,
    });
    return;
  }
  live.batch = undefined;
  // A finished PSBT session keeps its transaction, not its signing plan and PSBT copy.
  if (live.psbt) live.keys = undefined;
  await commit(ctx, live, complete(state, signatures, now));
}

export function batchOf(ctx: SessionContext, live: Live): { batch: Batch } | { failure: Failure } {
  const { attempt } = live.state;
  if (live.batch?.attempt === attempt) return { batch: live.batch.batch };
  try {
    const batch = signingBatch(
      ctx.keysOf(live),
      live.state.nonces.map((e) => (e as NonceEvidence).nonces),
    );
    live.batch = { attempt, batch };
    return { batch };
  } catch (e) {
    if (isCosignerError(e, 'INVALID_PUBLIC_NONCE')) {
      const position = e.context.signerIndex;
      const blame = typeof position === 'number' ? [ctx.keysOf(live).indexAt[position] as number] : [];
      return { failure: { code: e.code, reason: e.message, blame, reportedBy: live.localIndex, verified: true } };
    }
    throw e;
  }
}

/** Ends the session and tells the others (ABORT), so they stop waiting. */
export async function endWithAbort(ctx: SessionContext, live: Live, phase: 'ABORTED', failure: Failure): Promise<void> {
  await endSession(ctx, live, phase, failure, {
    type: 'abort',
    code: failure.code,
    blame: failure.blame,
    reason: clip(failure.reason, MAX_REASON_BYTES),
  });
}

export async function endSession(
  ctx: SessionContext,
  live: Live,
  phase: 'ABORTED' | 'DECLINED' | 'EXPIRED',
  failure: Failure,
  notify?: MessageBody,
): Promise<void> {
  const now = ctx.clock.now();
  ctx.dropSecrets(live);
  const frames = notify ? [ctx.message(live, live.state.attempt, notify, now).frame] : [];
  await commit(ctx, live, end(live.state, phase, failure, now), frames);
}

/** Ends the session if a timeout calls for it; returns the phase it ended in. */
export async function applyTimeouts(ctx: SessionContext, live: Live): Promise<Phase | undefined> {
  const timeout = timeoutOf(live.state, live.localIndex, ctx.deadlines(live), ctx.clock.now());
  if (timeout === undefined) return undefined;
  // Everyone expires at the same announced time; a stuck session is local knowledge worth sharing.
  if (timeout.phase === 'ABORTED') await endWithAbort(ctx, live, 'ABORTED', timeout.failure);
  else await endSession(ctx, live, timeout.phase, timeout.failure);
  return timeout.phase;
}
