/**
 * What arrives from the transport: rate limits, decoding, announcements at the known-group door
 * (verified, checked against the limits, their PSBT reviewed, refused with a DECLINE to the creator
 * when unreadable), and session messages checked (peer, timestamp, signature, sequence) before the
 * rounds see them. Orphans wait, bounded, for their announcement.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { CosignerError, isCosignerError } from '../errors.ts';
import { equalKeys, verifyAnnouncement, type Announcement } from './announcement.ts';
import { decodeFrame, type DecodedFrame } from './codec.ts';
import { deadlineOf, verdictOf } from './intake-rules.ts';
import { MAX_REASON_BYTES } from './limits.ts';
import { messageSignatureValid } from './messages.ts';
import type { InboundFrame, OutboundMeta } from './ports.ts';
import type { InboundVerdict } from './ports.ts';
import { PsbtSession } from './psbt-session.ts';
import { checkTimestamp, nextSequence } from './replay-guard.ts';
import { initialState, isTerminal } from './state.ts';
import { clip, type Live } from './live.ts';
import type { SessionContext } from './context.ts';
import { signersOfSavedGroup } from './group-path.ts';
import { receiveContribution, approveLocally, endSession, applyTimeouts } from './rounds.ts';
import { commit } from './persistence.ts';

/** Refused requests remembered for health(). */
const MAX_REFUSED_REQUESTS = 16;

/** An announcement's verdict waits for its intake (stored, or refused and why), so the transport
 *  acknowledges nothing it may lose; a session message is queued and accepted at once. */
export function onFrame(ctx: SessionContext, inbound: InboundFrame): InboundVerdict | Promise<InboundVerdict> {
  if (!ctx.running) return 'retry';
  if (!ctx.rate.allow(inbound.fromPeer, ctx.clock.now())) {
    ctx.reject('RATE_LIMITED');
    return 'retry';
  }
  return dispatch(ctx, inbound);
}

export function dispatch(ctx: SessionContext, inbound: InboundFrame): InboundVerdict | Promise<InboundVerdict> {
  let decoded: DecodedFrame;
  try {
    decoded = decodeFrame(inbound.frame);
  } catch (e) {
    ctx.reject(isCosignerError(e) ? e.code : 'MALFORMED_MESSAGE');
    return 'refused';
  }
  if (decoded.type === 'announcement') {
    return ctx
      .enqueueIntake(() => receiveAnnouncement(ctx, decoded, inbound))
      .then(
        (): InboundVerdict => 'accepted',
        (e: unknown) => {
          ctx.rejectError(e);
          return verdictOf(e);
        },
      );
  }
  const id = bytesToHex(decoded.message.sessionId);
  const live = ctx.sessions.get(id);
  if (!live) {
    // Possibly ahead of its announcement: held, unverified and bounded, until the announcement comes.
    if (!ctx.orphans.add(id, inbound, ctx.clock.now())) ctx.reject('UNKNOWN_SESSION');
    return 'accepted';
  }
  ctx.enqueue(live, () => receiveMessage(ctx, live, decoded, inbound), true).catch((e: unknown) => ctx.rejectError(e));
  return 'accepted';
}

export async function receiveAnnouncement(ctx: SessionContext, decoded: DecodedFrame, inbound: InboundFrame): Promise<void> {
  if (decoded.type !== 'announcement') return;
  const now = ctx.clock.now();
  const announcement = verifyAnnouncement(decoded, {
    localKey: ctx.localKey,
    now,
    maxSigners: ctx.options.maxSigners,
    timestampWindowMs: ctx.options.timestampWindowMs,
  });
  const { body } = announcement;
  // At the door: only a co-signer of a saved group, for exactly that group (or, naming a group
  // path, for a group saved under that id, every signer one of its keys), gets any further. A
  // stranger's request costs no record, no PSBT reading and no message back (no DECLINE), which
  // also keeps who saved which group from anyone who can guess its id.
  if (
    body.group === undefined
      ? !ctx.knownGroup(body.signers)
      : !signersOfSavedGroup(body.signers, ctx.groupById?.(bytesToHex(body.group.id)))
  ) {
    throw new CosignerError('UNKNOWN_GROUP', 'the signers are not a group saved on this node');
  }
  const creator = body.signers[body.creatorIndex] as Uint8Array;
  if (ctx.transport.peerOf(creator) !== inbound.fromPeer) {
    throw new CosignerError('WRONG_PEER', 'announcement not from the peer bound to its creator');
  }
  if (body.createdAt + ctx.options.sessionTimeoutMs <= now) {
    throw new CosignerError('EXPIRED', 'the announcement is older than the session timeout');
  }
  if (ctx.sessions.has(announcement.idHex) || (await ctx.store.get(announcement.idHex)) !== undefined) {
    throw new CosignerError('REPLAYED', 'announcement already seen', { sessionId: announcement.idHex });
  }
  // A refused request delivered again (transport retries, DHT inbox) is not reviewed again: a
  // PSBT intake can cost seconds of key derivation.
  if (ctx.refusedRequests.some((r) => r.sessionId === announcement.idHex)) {
    throw new CosignerError('REPLAYED', 'announcement already refused', { sessionId: announcement.idHex });
  }
  const pending = [...ctx.sessions.values()].filter((l) => ctx.awaitsLocalDecision(l));
  if (pending.length >= ctx.options.maxPendingApprovals) {
    throw new CosignerError('LIMIT_REACHED', 'too many requests awaiting approval');
  }
  const fromCreator = pending.filter((l) =>
    equalKeys(l.announcement.body.signers[l.announcement.body.creatorIndex] as Uint8Array, creator),
  );
  if (fromCreator.length >= ctx.options.maxPendingPerCreator) {
    throw new CosignerError('LIMIT_REACHED', 'too many requests awaiting approval from this creator');
  }
  // Last, being the costliest checks: the group path's signers are recomputed (group-path.ts), and
  // the PSBT is read, reviewed and planned, by this node itself.
  let psbt: PsbtSession | undefined;
  try {
    if (body.group !== undefined) ctx.resolvePath(body);
    psbt = ctx.intakePsbt(body);
  } catch (e) {
    noteRefusal(ctx, announcement, e);
    declineRefused(ctx, announcement, e, now);
    throw e;
  }
  ctx.makeRoom();
  const localIndex = body.signers.findIndex((key) => equalKeys(key, ctx.localKey));
  const live = ctx.newLive(announcement, localIndex, initialState(body.signers.length, body.creatorIndex, now), psbt);
  await commit(ctx, live, live.state, [], true);
  ctx.sessions.set(announcement.idHex, live);
  ctx.armDeadline();
  const snapshot = ctx.snapshot(live);
  ctx.emit('request', snapshot);
  ctx.prepareKeys(body.signers);
  for (const orphan of ctx.orphans.take(announcement.idHex)) void dispatch(ctx, orphan);
  if (ctx.autoApproves(snapshot)) {
    await ctx.enqueue(
      live,
      async () => {
        if (!isTerminal(live.state.phase) && !live.state.approved[localIndex]) await approveLocally(ctx, live);
      },
      false,
    );
  }
}

export async function receiveMessage(ctx: SessionContext, live: Live, decoded: DecodedFrame, inbound: InboundFrame): Promise<void> {
  if (decoded.type === 'announcement') return;
  const m = decoded.message;
  const { signers } = live.announcement.body;
  const senderKey = signers[m.sender];
  if (senderKey === undefined) throw new CosignerError('NOT_A_SIGNER', 'no signer at this index', { sender: m.sender });
  if (m.sender === live.localIndex) throw new CosignerError('REPLAYED', "a copy of this node's own message");
  // The transport's authenticated peer must be the one bound to the signer: a signature alone would
  // let any peer inject (or re-send) a signer's messages.
  if (ctx.transport.peerOf(senderKey) !== inbound.fromPeer) {
    throw new CosignerError('WRONG_PEER', 'message not from the peer bound to its signer', { sender: m.sender });
  }
  const now = ctx.clock.now();
  checkTimestamp(m.timestamp, now, ctx.options);
  if (!messageSignatureValid(decoded.signed, decoded.signature, senderKey, ctx.verifier)) {
    throw new CosignerError('BAD_SIGNATURE', 'message not signed by its sender', { sender: m.sender });
  }
  live.replay.accept(m.sender, m.sequence);
  if (m.attempt > ctx.options.maxAttempts) throw new CosignerError('LIMIT_REACHED', 'attempt beyond the limit', { attempt: m.attempt });
  if (isTerminal(live.state.phase) || (await applyTimeouts(ctx, live)) !== undefined) {
    throw new CosignerError('WRONG_PHASE', 'the session has ended', { phase: live.state.phase });
  }
  const body = m.body;
  switch (body.type) {
    case 'decline':
      // Its sender's own signed word about itself: checked here like any signed contribution.
      await endSession(ctx, live, 'DECLINED', {
        code: 'DECLINED',
        reason: body.reason,
        blame: [m.sender],
        reportedBy: m.sender,
        verified: true,
      });
      return;
    case 'abort':
      await endSession(ctx, live, 'ABORTED', {
        code: body.code,
        reason: body.reason,
        blame: [...new Set(body.blame)].filter((i) => i < signers.length),
        reportedBy: m.sender,
        // Nothing here checked what the sender says of others: its blame stays its claim.
        verified: false,
      });
      return;
    default:
      await receiveContribution(ctx, live, m, decoded.signature);
  }
}

export function noteRefusal(ctx: SessionContext, announcement: Announcement, e: unknown): void {
  const { body } = announcement;
  const list = ctx.refusedRequests;
  if (list.length >= MAX_REFUSED_REQUESTS) list.shift();
  list.push({
    sessionId: announcement.idHex,
    creator: bytesToHex(body.signers[body.creatorIndex] as Uint8Array),
    code: isCosignerError(e) ? e.code : 'INTERNAL',
    reason: clip(e instanceof Error ? e.message : String(e), 1024),
    at: ctx.clock.now(),
  });
}

/**
 * A request this node refused on reading it (a PSBT it cannot or will not sign) is declined to its
 * creator, with the reason, so that the creator learns why at once instead of waiting for the
 * session to expire. Sent once per request (the refusal is remembered, and a refused request
 * delivered again is dropped before its intake); to the creator only, for no longer than this
 * node's own session timeout, and at most REFUSALS_PER_CREATOR per window: so no request, however
 * many signers it lists and whatever expiry it announces, makes this node fill its delivery queues.
 */
export function declineRefused(ctx: SessionContext, announcement: Announcement, e: unknown, now: number): void {
  const { body } = announcement;
  const creator = body.signers[body.creatorIndex] as Uint8Array;
  if (!ctx.refusals.allow(bytesToHex(creator), now)) return;
  const localIndex = body.signers.findIndex((key) => equalKeys(key, ctx.localKey));
  const code = isCosignerError(e) ? e.code : 'INTERNAL';
  const reason = clip(`refused on reading the request (${code}): ${e instanceof Error ? e.message : String(e)}`, MAX_REASON_BYTES);
  const frame = ctx.sign({
    sessionId: announcement.id,
    sender: localIndex,
    attempt: 1,
    sequence: nextSequence(0),
    timestamp: now,
    body: { type: 'decline', reason },
  });
  const meta: OutboundMeta = {
    kind: 'session-message',
    sessionId: announcement.idHex,
    expiresAt: deadlineOf(body, ctx.options.sessionTimeoutMs),
  };
  ctx.send(creator, frame, meta);
}
