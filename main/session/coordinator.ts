/**
 * The session coordinator: runs co-signing sessions over injected ports (clock, scheduler, randomness,
 * transport, record store, signer key), so it behaves the same in tests, the headless daemon and
 * Electron. The protocol it implements is docs/PROTOCOL.md; the pure parts live in codec.ts, state.ts,
 * replay-guard.ts and friends. The work is done in rooms that share one SessionContext (context.ts:
 * the ports, the sessions in memory, queues, sending, events): intake.ts (frames from the transport,
 * the known-group door, refusals), rounds.ts (approval, nonces, partial signatures and their
 * evidence, aggregation, ends), persistence.ts (commit, load, restore, retention) and lifecycle.ts
 * (start, sweep, cleanup). This class is the public API: it owns the context and routes to them.
 *
 * Concurrency: every operation on a session (an inbound message, a user action, a timeout) runs in
 * that session's serial queue, and announcements in one intake queue, so state changes never
 * interleave. Every queue, map and timer is bounded (limits.ts).
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { base64 } from '@scure/base';
import type { BitcoinNetwork, HistoryPage } from '../../preload/contract.ts';
import { CosignerError } from '../errors.ts';
import { checkAnnouncementBody, equalKeys, signAnnouncement, type Announcement } from './announcement.ts';
import type { TweakMode } from './codec.ts';
import type { SpendPath } from '../wallet/spend-path.ts';
import { MAX_REASON_BYTES, type CoordinatorOptions } from './limits.ts';
import type { Clock, Random, RecordStore, Scheduler, SessionTransport, SignerKey } from './ports.ts';
import type { GroupById, KnownGroup } from './ports.ts';
import type { GroupKeysCache, SpendKeysCache } from './psbt-session.ts';
import { fromRecord } from './records.ts';
import { isSessionKey } from './session-index.ts';
import type { SessionSnapshot } from './snapshot.ts';
import { initialState, isExchange, isTerminal, PHASES, startAttempt, type Phase } from './state.ts';
import { clip, type Live } from './live.ts';
import { SessionContext, type Listener } from './context.ts';
import { approveLocally, advance, endWithAbort, endSession, applyTimeouts } from './rounds.ts';
import { commit, restoreRecord, restoredPsbt } from './persistence.ts';
import { buildBody } from './request-body.ts';
import * as lifecycle from './lifecycle.ts';

export interface CoordinatorDeps {
  clock: Clock;
  scheduler: Scheduler;
  random: Random;
  transport: SessionTransport;
  store: RecordStore;
  signer: SignerKey;
  /** The groups this node's user saved: requests for any other signer set are refused (UNKNOWN_GROUP). */
  knownGroup: KnownGroup;
  /** The saved groups by id, for requests that name a group's spending path; without it every such
   *  request is refused (UNKNOWN_GROUP). */
  groupById?: GroupById;
  options?: Partial<CoordinatorOptions>;
  /** Shared with whatever else reviews PSBTs for the same groups (derivations are made once). */
  groupKeys?: GroupKeysCache;
  /** The same for groups with a policy (their outputs and path keys). */
  spendKeys?: SpendKeysCache;
}

export interface MessageInput {
  /** Hex bytes to sign (1..4096 bytes). */
  message: string;
  /** What the message is, for the co-signers' screens. */
  label?: string;
}

export interface PsbtInput {
  kind: 'psbt';
  /** Base64, hex or the binary file; sent as given, at most MAX_PSBT_BYTES. */
  psbt: string | Uint8Array;
  /** The network every signer reviews it for (refused unless it is this node's, if it has one). */
  network: BitcoinNetwork;
  /** Sign inputs asking for a sighash type other than DEFAULT (the user's explicit choice). */
  allowNonDefaultSighash?: boolean;
}

export interface CreateSessionInput {
  /** 33-byte compressed keys in hex, the local signer among them. Order is kept for indices; the
   *  aggregate key does not depend on it (KeySort). For a PSBT, the signers are the group that
   *  spends every input (all of them sign). */
  signers: readonly string[];
  payload: ({ kind: 'message' } & MessageInput) | { kind: 'batch'; items: readonly MessageInput[] } | PsbtInput;
  description?: string;
  /** 'taproot': signed under the signers' n-of-n BIP341 key-path output key (a message as a BIP322
   *  signature for its address); 'path': by `group`'s spending path. 'none', the plain aggregate key,
   *  is refused. */
  tweak: TweakMode;
  /** With tweak 'path': the group (its id, 64 hex) and the path; the signers must be the path's. */
  group?: { id: string; path: SpendPath };
  /** Expiry, from now; default `defaultSessionTtlMs`, at most `sessionTimeoutMs`. */
  expiresInMs?: number;
}

export interface CoordinatorHealth {
  running: boolean;
  sessionsByPhase: Record<Phase, number>;
  /** Age of the oldest session not ended, or null. */
  oldestSessionAgeMs: number | null;
  pendingApprovals: number;
  lastCleanupAt: number | null;
  /** Inbound frames rejected, by error code. */
  rejectedMessages: Record<string, number>;
  orphanedFrames: number;
  trackedPeers: number;
  sendFailures: number;
  storageFailures: number;
  corruptRecords: number;
  listenerErrors: number;
  /** Sweeps whose retention or index save failed (tried again at the next sweep). */
  sweepFailures: number;
  /** Session records on disk, as the index knows them. */
  storedSessions: number;
  /** The latest requests refused after their creator was authenticated (a PSBT this group cannot
   *  sign, another network), newest last: why nothing was shown. */
  refusedRequests: RefusedRequest[];
}

export interface RefusedRequest {
  sessionId: string;
  /** Hex key of the signer who sent it. */
  creator: string;
  code: string;
  reason: string;
  at: number;
}

export interface SweepReport {
  expired: number;
  stuck: number;
  evicted: number;
  orphansDropped: number;
  /** Records deleted by retention. */
  deleted: number;
}

export interface CoordinatorEvents {
  /** Any change of a session, with its full snapshot (compare `version` to drop stale ones). */
  session: SessionSnapshot;
  /** A new request from another signer, verified and stored, waiting for the local user. */
  request: SessionSnapshot;
}

const MAX_LISTENERS = 64;

export class SessionCoordinator {
  /** The state every part shares (context.ts); this class routes to the part that does the work. */
  readonly #ctx: SessionContext;
  readonly options: Readonly<CoordinatorOptions>;
  #starting: Promise<void> | undefined;

  constructor(deps: CoordinatorDeps) {
    this.#ctx = new SessionContext(deps, () => this.sweep());
    this.options = this.#ctx.options;
  }

  // ------------------------------------------------------------------ lifecycle (lifecycle.ts)

  /** Loads the stored sessions of the local signer, subscribes to the transport, starts the sweep timer. */
  start(): Promise<void> {
    if (this.#ctx.running) return Promise.resolve();
    this.#starting ??= lifecycle.startRunning(this.#ctx).finally(() => (this.#starting = undefined));
    return this.#starting;
  }

  /**
   * Stops the timer and the intake, lets queued work finish (so what was decided is stored), then
   * closes every session: secret nonces are dropped and memory emptied. Stored records stay; a later
   * start() picks the sessions up again (those cut off mid-exchange need a resume).
   */
  cleanup(): Promise<void> {
    return lifecycle.cleanup(this.#ctx);
  }

  get running(): boolean {
    return this.#ctx.running;
  }

  /** Resolves once every queued operation has finished. */
  idle(): Promise<void> {
    return lifecycle.idle(this.#ctx);
  }

  /**
   * One cleanup pass: ends sessions past their deadline (EXPIRED) or stuck in an exchange phase
   * (ABORTED, SESSION_STUCK), lets finished sessions older than sessionTimeout leave memory, drops
   * orphaned frames past their TTL, deletes the records retention no longer keeps and saves the index.
   * The timer runs it every cleanupInterval.
   */
  sweep(): Promise<SweepReport> {
    return lifecycle.sweep(this.#ctx);
  }

  on<E extends keyof CoordinatorEvents>(event: E, listener: Listener<E>): () => void {
    const set = this.#ctx.listeners[event] as Set<Listener<E>>;
    if (set.size >= MAX_LISTENERS) throw new CosignerError('LIMIT_REACHED', 'too many listeners', { event });
    set.add(listener);
    return () => set.delete(listener);
  }

  // ------------------------------------------------------------------ queries

  list(): SessionSnapshot[] {
    return [...this.#ctx.sessions.values()].map((live) => this.#ctx.snapshot(live));
  }

  /** A session in memory, or else from the store (finished sessions leave memory after sessionTimeout):
   *  its record read and checked as at start, stored signatures verified. */
  async get(sessionId: string): Promise<SessionSnapshot | undefined> {
    const live = this.#ctx.sessions.get(sessionId);
    if (live) return this.#ctx.snapshot(live);
    if (!isSessionKey(sessionId)) return undefined;
    const json = await this.#ctx.store.get(sessionId);
    if (json === undefined) return undefined;
    let stored: Live;
    try {
      stored = restoreRecord(this.#ctx, json, false);
    } catch {
      this.#ctx.counters.corruptRecords += 1;
      return undefined;
    }
    return equalKeys(this.#ctx.localKeyOf(stored), this.#ctx.localKey) ? this.#ctx.snapshot(stored) : undefined;
  }

  /** This node's copy of a PSBT session's PSBT, base64 (see PsbtSession.psbt). */
  async psbt(sessionId: string): Promise<string> {
    const live = this.#ctx.sessions.get(sessionId);
    let psbt = live?.psbt;
    if (!live && /^[0-9a-f]{64}$/.test(sessionId)) {
      const json = await this.#ctx.store.get(sessionId);
      const record = json === undefined ? undefined : fromRecord(json);
      if (record && equalKeys(record.localKey, this.#ctx.localKey)) {
        if (record.announcement.body.payload.kind !== 'psbt') throw new CosignerError('WRONG_PHASE', 'not a PSBT session', { sessionId });
        psbt = restoredPsbt(this.#ctx, record, false);
      }
    } else if (live && !psbt) {
      throw new CosignerError('WRONG_PHASE', 'not a PSBT session', { sessionId });
    }
    if (!psbt) throw new CosignerError('UNKNOWN_SESSION', 'no such session', { sessionId });
    return base64.encode(psbt.psbt());
  }

  /** The stored sessions of the local signer, newest first, `limit` after `cursor`: from the index,
   *  reading no record (get() opens one). */
  async history({ cursor, limit = 50 }: { cursor?: string | undefined; limit?: number } = {}): Promise<HistoryPage> {
    return this.#ctx.index.page(bytesToHex(this.#ctx.localKey), cursor, limit);
  }

  health(): CoordinatorHealth {
    const now = this.#ctx.clock.now();
    const sessionsByPhase = Object.fromEntries(PHASES.map((p) => [p, 0])) as Record<Phase, number>;
    let oldest: number | null = null;
    let pendingApprovals = 0;
    for (const live of this.#ctx.sessions.values()) {
      const { phase } = live.state;
      sessionsByPhase[phase] += 1;
      if (!isTerminal(phase)) {
        const age = Math.max(0, now - live.announcement.body.createdAt);
        oldest = oldest === null ? age : Math.max(oldest, age);
      }
      if (this.#ctx.awaitsLocalDecision(live)) pendingApprovals += 1;
    }
    return {
      running: this.#ctx.running,
      sessionsByPhase,
      oldestSessionAgeMs: oldest,
      pendingApprovals,
      lastCleanupAt: this.#ctx.lastCleanupAt,
      rejectedMessages: Object.fromEntries(this.#ctx.rejected),
      orphanedFrames: this.#ctx.orphans.size,
      trackedPeers: this.#ctx.rate.size,
      ...this.#ctx.counters,
      storedSessions: this.#ctx.index.size,
      refusedRequests: this.#ctx.refusedRequests.map((r) => ({ ...r })),
    };
  }

  // ------------------------------------------------------------------ user actions (rounds.ts)

  /** Builds, signs, stores and sends a signing request; the creator's signature is its approval. */
  async createSession(input: CreateSessionInput): Promise<SessionSnapshot> {
    this.#ctx.assertRunning();
    const now = this.#ctx.clock.now();
    const body = buildBody(this.#ctx, input, now);
    checkAnnouncementBody(body, this.options.maxSigners);
    // The creator checks its group path and reviews its own PSBT exactly as every receiver will,
    // before anything is sent.
    if (body.group !== undefined) this.#ctx.resolvePath(body);
    const psbt = this.#ctx.intakePsbt(body);
    return this.#ctx.enqueueIntake(async () => {
      this.#ctx.makeRoom();
      const secretKey = this.#ctx.signer.secretKey();
      let announcement: Announcement;
      try {
        announcement = signAnnouncement(body, secretKey, this.#ctx.random.bytes(32));
      } finally {
        secretKey.fill(0);
      }
      const live = this.#ctx.newLive(announcement, body.creatorIndex, initialState(body.signers.length, body.creatorIndex, now), psbt);
      await commit(this.#ctx, live, live.state, [], true);
      this.#ctx.sessions.set(announcement.idHex, live);
      this.#ctx.armDeadline();
      this.#ctx.broadcast(live, announcement.frame, 'announcement');
      this.#ctx.prepareKeys(body.signers);
      return this.#ctx.snapshot(live);
    });
  }

  /** The local user's approval: only now may this node make nonces and sign. Idempotent. */
  approve(sessionId: string): Promise<SessionSnapshot> {
    return this.#act(sessionId, async (live) => {
      this.#ctx.assertOpen(live);
      if (!live.state.approved[live.localIndex]) await approveLocally(this.#ctx, live);
      return this.#ctx.snapshot(live);
    });
  }

  /** Declines a request not yet approved: the session ends DECLINED for everyone. */
  decline(sessionId: string, reason = ''): Promise<SessionSnapshot> {
    return this.#act(sessionId, async (live) => {
      this.#ctx.assertOpen(live);
      if (live.state.approved[live.localIndex]) {
        throw new CosignerError('WRONG_PHASE', 'already approved: abort instead', { sessionId });
      }
      const text = clip(reason, MAX_REASON_BYTES);
      await endSession(
        this.#ctx,
        live,
        'DECLINED',
        { code: 'DECLINED', reason: text, blame: [live.localIndex], reportedBy: live.localIndex, verified: true },
        {
          type: 'decline',
          reason: text,
        },
      );
      return this.#ctx.snapshot(live);
    });
  }

  /** Ends a session not finished yet, for everyone (e.g. the user cancels after approving). */
  abort(sessionId: string, reason = 'cancelled by the user'): Promise<SessionSnapshot> {
    return this.#act(sessionId, async (live) => {
      this.#ctx.assertOpen(live);
      await endWithAbort(this.#ctx, live, 'ABORTED', {
        code: 'ABORTED',
        reason: clip(reason, MAX_REASON_BYTES),
        blame: [],
        reportedBy: live.localIndex,
        verified: true,
      });
      return this.#ctx.snapshot(live);
    });
  }

  /**
   * Starts the next attempt of a session cut off in an exchange phase: everyone makes fresh nonces.
   * No one is asked to approve again: the content, which is what was approved, is the same (the
   * session id commits to it); only the nonces change.
   */
  resume(sessionId: string): Promise<SessionSnapshot> {
    return this.#act(sessionId, async (live) => {
      this.#ctx.assertOpen(live);
      const { state } = live;
      if (!isExchange(state.phase)) {
        throw new CosignerError('WRONG_PHASE', 'only a session in an exchange phase can be resumed', { phase: state.phase });
      }
      if (state.attempt >= this.options.maxAttempts) {
        throw new CosignerError('LIMIT_REACHED', 'no attempts left', { attempts: state.attempt });
      }
      this.#ctx.dropSecrets(live);
      await commit(this.#ctx, live, startAttempt(state, state.attempt + 1, this.#ctx.clock.now()));
      await advance(this.#ctx, live);
      return this.#ctx.snapshot(live);
    });
  }

  #act<T>(sessionId: string, op: (live: Live) => Promise<T>): Promise<T> {
    try {
      this.#ctx.assertRunning();
    } catch (e) {
      return Promise.reject(e);
    }
    const live = this.#ctx.sessions.get(sessionId);
    if (!live) return Promise.reject(new CosignerError('UNKNOWN_SESSION', 'no such active session', { sessionId }));
    return this.#ctx.enqueue(
      live,
      async () => {
        await applyTimeouts(this.#ctx, live);
        return op(live);
      },
      false,
    );
  }
}
