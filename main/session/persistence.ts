/**
 * A session's record and the index of records: the commit that stores a state before anything is
 * reported or sent, loading and checking records at start (and for history), and retention.
 */
import { CosignerError, isCosignerError } from '../errors.ts';
import { verifySignature } from '../musig/index.ts';
import { equalKeys } from './announcement.ts';
import { PsbtSession, type StoredPsbt } from './psbt-session.ts';
import { fromRecord, toRecord, type Restored } from './records.ts';
import { recordsToDelete, REPLAY_HORIZON_MS } from './retention.ts';
import { isSessionKey, SessionIndex } from './session-index.ts';
import { end, isTerminal, type SessionState } from './state.ts';
import type { Live } from './live.ts';
import type { SessionContext } from './context.ts';

/**
 * Makes `next` the session's state: stored first when the record changes (or a message is about to
 * leave, since its sequence number must survive a restart), then reported, then the frames sent.
 * If the store fails nothing is sent or reported as done: the session ends ABORTED (STORAGE_FAILED)
 * in memory and the error is thrown.
 */
export async function commit(
  ctx: SessionContext,
  live: Live,
  next: SessionState,
  frames: readonly Uint8Array[] = [],
  force = false,
): Promise<void> {
  const previous = live.state;
  const stored = force || frames.length > 0 || recordChanged(previous, next);
  if (stored) {
    try {
      await ctx.store.put(
        live.announcement.idHex,
        toRecord({
          announcement: live.announcement,
          localKey: ctx.localKey,
          signingKey: live.signingKey,
          state: next,
          localSequence: live.localSequence,
          peerSequences: live.replay.snapshot(),
          psbt: live.psbt?.toStored(),
        }),
      );
    } catch (e) {
      ctx.counters.storageFailures += 1;
      ctx.dropSecrets(live);
      if (!isTerminal(previous.phase)) {
        const now = ctx.clock.now();
        live.state = end(
          previous,
          'ABORTED',
          { code: 'STORAGE_FAILED', reason: 'could not store the session', blame: [], reportedBy: live.localIndex, verified: true },
          now,
        );
        ctx.emit('session', ctx.snapshot(live));
      }
      throw isCosignerError(e) ? e : new CosignerError('STORAGE_FAILED', 'could not store the session', {}, { cause: e });
    }
  }
  live.state = next;
  if (stored) ctx.index.set(ctx.entryOf(live));
  if (next.phase !== previous.phase || next.attempt !== previous.attempt) ctx.armDeadline();
  if (force || next !== previous) ctx.emit('session', ctx.snapshot(live));
  for (const frame of frames) ctx.broadcast(live, frame, 'session-message');
  // Last: frames the record says were sent must leave whatever happens to this node's PSBT copy.
  live.psbt?.progress(next);
}

export function recordChanged(a: SessionState, b: SessionState): boolean {
  return (
    a.phase !== b.phase ||
    a.attempt !== b.attempt ||
    a.attemptFloor !== b.attemptFloor ||
    a.failure !== b.failure ||
    a.signatures !== b.signatures ||
    a.approved.some((approved, i) => approved !== b.approved[i])
  );
}

/**
 * Restores the sessions that may still act (open, or ended within the session timeout) from their
 * records, and the index of every record. An ended session past the session timeout is on disk for
 * history only and its index line says all history needs: its record is read when it is opened
 * (get), not at every start. A record the index lacks (an index missing, unreadable or saved before
 * a crash) is read and indexed; an index line without a record is dropped.
 */
export async function load(ctx: SessionContext): Promise<void> {
  const now = ctx.clock.now();
  const keys = (await ctx.store.keys()).filter(isSessionKey);
  const { index, intact } = await SessionIndex.load(ctx.store);
  if (!intact) ctx.counters.corruptRecords += 1;
  index.retainOnly(new Set(keys));
  ctx.index = index;
  const restored: Live[] = [];
  for (const key of keys) {
    const known = index.get(key);
    if (known && isTerminal(known.phase) && now - known.createdAt >= ctx.options.sessionTimeoutMs) continue;
    let live: Live;
    try {
      live = restoreRecord(ctx, await ctx.store.get(key), true);
    } catch {
      ctx.counters.corruptRecords += 1;
      index.delete(key);
      continue;
    }
    index.set(ctx.entryOf(live));
    if (!equalKeys(ctx.localKeyOf(live), ctx.localKey)) continue;
    const recent = now - live.announcement.body.createdAt < ctx.options.sessionTimeoutMs;
    if (!isTerminal(live.state.phase) || recent) restored.push(live);
  }
  // Sessions still open first, then the most recent: what fits in memory is what matters most.
  restored.sort((a, b) => Number(isTerminal(a.state.phase)) - Number(isTerminal(b.state.phase)) || b.state.updatedAt - a.state.updatedAt);
  for (const live of restored.slice(0, ctx.options.maxSessions)) ctx.sessions.set(live.announcement.idHex, live);
}

/**
 * A stored record as a session, checked: schema, announcement signature and consistency
 * (fromRecord), stored signatures against the stored messages and keys. With `reopen`, an open
 * session of the local signer will sign again, so its key (and a PSBT's messages) are recomputed
 * now, never taken from the file on trust.
 */
export function restoreRecord(ctx: SessionContext, json: unknown, reopen: boolean): Live {
  const record = fromRecord(json);
  const open = reopen && equalKeys(record.localKey, ctx.localKey) && !isTerminal(record.state.phase);
  const live = ctx.newLive(record.announcement, record.localIndex, record.state, restoredPsbt(ctx, record, open), record);
  if (open && !equalKeys(ctx.keysOf(live).signingKey, live.signingKey)) {
    throw new Error('stored signing key does not match the signers');
  }
  const { signatures } = record.state;
  if (!signatures.every((sig, i) => verifySignature(sig, live.messages[i] as Uint8Array, live.verifyKeys[i] as Uint8Array))) {
    throw new Error('stored signature does not verify');
  }
  return live;
}

/**
 * The PSBT side of a stored session: a session that may still sign imports, reviews and plans its
 * PSBT again, which must give what was stored (what its user saw); history is shown as stored.
 */
export function restoredPsbt(ctx: SessionContext, record: Restored, reopen: boolean): PsbtSession | undefined {
  const { body } = record.announcement;
  if (body.payload.kind !== 'psbt') return undefined;
  const stored = record.psbt as StoredPsbt;
  if (!reopen) return PsbtSession.stored(body, stored);
  const psbt = ctx.intakePsbt(body) as PsbtSession;
  if (!psbt.matches(stored)) throw new Error('the stored PSBT review is not what this node computes');
  return psbt;
}

/**
 * Retention (retention.ts) and the index's save. The record, not its index line, decides: only a
 * record read back as ended is deleted, one file at a time (each deletion atomic). A failure is
 * counted (sweepFailures) and the rest is tried again at the next sweep.
 */
export async function retain(ctx: SessionContext, now: number): Promise<number> {
  if (ctx.retaining) return 0;
  ctx.retaining = true;
  let deleted = 0;
  let failed = false;
  try {
    const policy = {
      maxAgeMs: ctx.options.recordRetentionMs,
      maxRecords: ctx.options.maxStoredRecords,
      protectedMs: Math.max(REPLAY_HORIZON_MS, ctx.options.sessionTimeoutMs),
    };
    for (const id of recordsToDelete(ctx.index.values(), now, policy)) {
      if (ctx.sessions.has(id)) continue;
      let json: unknown;
      try {
        json = await ctx.store.get(id);
      } catch {
        failed = true;
        continue;
      }
      let ended = json === undefined;
      try {
        ended ||= isTerminal(fromRecord(json).state.phase);
      } catch {
        // Unreadable: counted and left on disk for whoever looks into it, but no longer retried.
        ctx.counters.corruptRecords += 1;
        ctx.index.delete(id);
        continue;
      }
      if (!ended) continue;
      try {
        if (json !== undefined) await ctx.store.delete(id);
        ctx.index.delete(id);
        deleted += 1;
      } catch {
        failed = true;
      }
    }
    await ctx.index.save(ctx.store).catch(() => (failed = true));
  } finally {
    ctx.retaining = false;
  }
  if (failed) ctx.counters.sweepFailures += 1;
  return deleted;
}
