/**
 * A coordinator's life and its timers: start (load, subscribe, the periodic sweep), the sweep that
 * ends sessions past their deadline (EXPIRED) or stuck in an exchange (ABORTED, SESSION_STUCK) and
 * lets old ones leave memory, and cleanup. The timer at the earliest deadline is SessionContext's.
 */
import { isTerminal } from './state.ts';
import type { SessionContext } from './context.ts';
import { applyTimeouts } from './rounds.ts';
import { onFrame } from './intake.ts';
import { load, retain } from './persistence.ts';
import type { SweepReport } from './coordinator.ts';

/** Loads the stored sessions of the local signer, subscribes to the transport, starts the sweep timer. */
export async function startRunning(ctx: SessionContext): Promise<void> {
  await load(ctx);
  ctx.running = true;
  ctx.unsubscribe = ctx.transport.subscribe((inbound) => onFrame(ctx, inbound));
  if (ctx.options.enableAutoCleanup) {
    ctx.timer = ctx.scheduler.setInterval(
      () => void ctx.sweep().catch(() => (ctx.counters.sweepFailures += 1)),
      ctx.options.cleanupIntervalMs,
    );
  }
  await ctx.sweep();
}

/** Resolves once every queued operation has finished. */
export async function idle(ctx: SessionContext): Promise<void> {
  while (ctx.inflight.size > 0) await Promise.allSettled([...ctx.inflight]);
}

/**
 * Stops the timer and the intake, lets queued work finish (so what was decided is stored), then
 * closes every session: secret nonces are dropped and memory emptied. Stored records stay; a later
 * start() picks the sessions up again (those cut off mid-exchange need a resume).
 */
export async function cleanup(ctx: SessionContext): Promise<void> {
  if (!ctx.running) return;
  ctx.running = false;
  if (ctx.timer !== undefined) ctx.scheduler.clear(ctx.timer);
  ctx.timer = undefined;
  if (ctx.deadlineTimer !== undefined) ctx.scheduler.clear(ctx.deadlineTimer.handle);
  ctx.deadlineTimer = undefined;
  if (ctx.prepareTimer !== undefined) ctx.scheduler.clear(ctx.prepareTimer);
  ctx.prepareTimer = undefined;
  ctx.toPrepare.clear();
  ctx.unsubscribe?.();
  ctx.unsubscribe = undefined;
  await idle(ctx);
  await ctx.index.save(ctx.store).catch(() => (ctx.counters.sweepFailures += 1));
  for (const live of ctx.sessions.values()) ctx.dropSecrets(live);
  ctx.sessions.clear();
  ctx.orphans.clear();
}

/**
 * One cleanup pass: ends sessions past their deadline (EXPIRED) or stuck in an exchange phase
 * (ABORTED, SESSION_STUCK), lets finished sessions older than sessionTimeout leave memory, drops
 * orphaned frames past their TTL, deletes the records retention no longer keeps and saves the index.
 * The timer runs it every cleanupInterval.
 */
export async function sweep(ctx: SessionContext): Promise<SweepReport> {
  const report: SweepReport = { expired: 0, stuck: 0, evicted: 0, orphansDropped: 0, deleted: 0 };
  for (const live of [...ctx.sessions.values()]) {
    // A failed timeout check (a storage failure) leaves the session to the next sweep, counted.
    const ended = await ctx
      .enqueue(live, () => applyTimeouts(ctx, live), false)
      .catch(() => {
        ctx.counters.sweepFailures += 1;
        return undefined;
      });
    if (ended === 'EXPIRED') report.expired += 1;
    if (ended === 'ABORTED') report.stuck += 1;
  }
  const now = ctx.clock.now();
  for (const [id, live] of ctx.sessions) {
    if (isTerminal(live.state.phase) && now - live.announcement.body.createdAt >= ctx.options.sessionTimeoutMs) {
      ctx.sessions.delete(id);
      report.evicted += 1;
    }
  }
  report.orphansDropped = ctx.orphans.prune(now);
  // Tracked, so idle() and cleanup() wait for its deletions and its save of the index.
  report.deleted = await ctx.track(retain(ctx, now));
  ctx.lastCleanupAt = now;
  ctx.armDeadline();
  return report;
}
