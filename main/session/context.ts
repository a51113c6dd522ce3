/**
 * What every part of the coordinator shares: the ports, the options, the sessions in memory and the
 * bounded structures around them (queues, orphans, rate limits, counters), and the plumbing they all
 * use (queueing, sending, signing a message, snapshots, events, the deadline timer). The
 * SessionCoordinator owns one; intake.ts, rounds.ts, persistence.ts and lifecycle.ts act on it.
 */
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { CosignerError, isCosignerError, type ErrorCode } from '../errors.ts';
import { discardSecretNonce, KeyVerifier } from '../musig/index.ts';
import { taprootAddress } from '../wallet/group.ts';
import { equalKeys, itemsOf, type Announcement } from './announcement.ts';
import type { AnnouncementBody, MessageBody, SessionMessage } from './codec.ts';
import { deadlineOf, refusalLimiter } from './intake-rules.ts';
import { resolveOptions, type CoordinatorOptions } from './limits.ts';
import { signMessage } from './messages.ts';
import { OrphanBuffer } from './orphan-buffer.ts';
import type { Clock, FrameKind, OutboundMeta, Random, RecordStore, Scheduler, SessionTransport, SignerKey, TimerHandle } from './ports.ts';
import type { GroupById, KnownGroup } from './ports.ts';
import { resolveGroupPath, type ResolvedPath } from './group-path.ts';
import { GroupKeysCache, intakePathPsbt, intakePsbt, PsbtSession, SpendKeysCache } from './psbt-session.ts';
import { PeerRateLimiter } from './rate-limiter.ts';
import { nextSequence, SequenceTracker } from './replay-guard.ts';
import { messageDigests, sessionKeys, type SessionKeys } from './session-crypto.ts';
import { SessionIndex, type IndexEntry } from './session-index.ts';
import { summaryOf } from './session-summary.ts';
import { snapshotOf, type SessionSnapshot } from './snapshot.ts';
import { isExchange, isTerminal, type SessionState } from './state.ts';
import type { Live } from './live.ts';
import type { CoordinatorDeps, CoordinatorEvents, RefusedRequest } from './coordinator.ts';

/** Co-signer keys whose verification tables a node keeps (KeyVerifier): about 120 kB and 8 ms each. */
export const PREPARED_KEYS = 64;

export type Listener<E extends keyof CoordinatorEvents> = (payload: CoordinatorEvents[E]) => void;

export class SessionContext {
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly random: Random;
  readonly transport: SessionTransport;
  readonly store: RecordStore;
  readonly signer: SignerKey;
  readonly knownGroup: KnownGroup;
  readonly groupById: GroupById | undefined;
  readonly localKey: Uint8Array;
  readonly groupKeys: GroupKeysCache;
  readonly spendKeys: SpendKeysCache;
  readonly sessions = new Map<string, Live>();
  readonly orphans: OrphanBuffer;
  readonly rate: PeerRateLimiter;
  /** DECLINEs of refused requests, per creator key (intake-rules.ts). */
  readonly refusals = refusalLimiter();
  readonly listeners: { [E in keyof CoordinatorEvents]: Set<Listener<E>> } = { session: new Set(), request: new Set() };
  readonly inflight = new Set<Promise<unknown>>();
  intake: Promise<unknown> = Promise.resolve();
  intakeQueued = 0;
  running = false;
  unsubscribe: (() => void) | undefined;
  timer: TimerHandle | undefined;
  /** One timer at the earliest deadline of any open session, so expiry and stuck aborts happen on time
   *  rather than at the next periodic sweep. */
  deadlineTimer: { handle: TimerHandle; at: number } | undefined;
  lastCleanupAt: number | null = null;
  readonly rejected = new Map<string, number>();
  readonly refusedRequests: RefusedRequest[] = [];
  /** Verifies the signers' messages, with the tables of the co-signers of recent requests. */
  readonly verifier = new KeyVerifier(PREPARED_KEYS);
  /** Co-signer keys (x-only hex) whose tables are still to build, one per scheduler turn. */
  readonly toPrepare = new Set<string>();
  prepareTimer: TimerHandle | undefined;
  readonly counters = { sendFailures: 0, storageFailures: 0, corruptRecords: 0, listenerErrors: 0, sweepFailures: 0 };
  /** One line per stored session, for history and retention (loaded by start). */
  index = new SessionIndex();
  retaining = false;
  readonly options: Readonly<CoordinatorOptions>;
  /** Runs a sweep (lifecycle.ts), for the deadline timer. */
  readonly sweep: () => Promise<unknown>;

  constructor(deps: CoordinatorDeps, sweep: () => Promise<unknown>) {
    this.clock = deps.clock;
    this.scheduler = deps.scheduler;
    this.random = deps.random;
    this.transport = deps.transport;
    this.store = deps.store;
    this.signer = deps.signer;
    this.knownGroup = deps.knownGroup;
    this.groupById = deps.groupById;
    this.localKey = Uint8Array.from(deps.signer.publicKey);
    this.groupKeys = deps.groupKeys ?? new GroupKeysCache();
    this.spendKeys = deps.spendKeys ?? new SpendKeysCache();
    this.options = Object.freeze(resolveOptions(deps.options));
    this.orphans = new OrphanBuffer({
      maxFrames: this.options.maxOrphanFrames,
      maxPerPeer: this.options.maxOrphansPerPeer,
      ttlMs: this.options.orphanTtlMs,
    });
    this.rate = new PeerRateLimiter({
      ratePerSecond: this.options.ratePerPeerPerSecond,
      burst: this.options.rateBurst,
      maxPeers: this.options.maxTrackedPeers,
    });
    this.sweep = sweep;
  }

  emit<E extends keyof CoordinatorEvents>(event: E, payload: CoordinatorEvents[E]): void {
    for (const listener of this.listeners[event] as Set<Listener<E>>) {
      try {
        listener(payload);
      } catch {
        this.counters.listenerErrors += 1;
      }
    }
  }

  reject(code: string): void {
    this.rejected.set(code, (this.rejected.get(code) ?? 0) + 1);
  }

  rejectError(e: unknown): void {
    this.reject(isCosignerError(e) ? e.code : 'INTERNAL');
  }

  send(to: Uint8Array, frame: Uint8Array, meta: OutboundMeta): void {
    this.transport.send(to, frame, meta).catch(() => {
      this.counters.sendFailures += 1;
    });
  }

  sendToOthers(signers: readonly Uint8Array[], localIndex: number, frame: Uint8Array, meta: OutboundMeta): void {
    signers.forEach((key, index) => {
      if (index !== localIndex) this.send(key, frame, meta);
    });
  }

  broadcast(live: Live, frame: Uint8Array, kind: FrameKind): void {
    this.sendToOthers(live.announcement.body.signers, live.localIndex, frame, {
      kind,
      sessionId: live.announcement.idHex,
      expiresAt: live.deadline,
    });
  }

  enqueue<T>(live: Live, op: () => Promise<T>, inbound: boolean): Promise<T> {
    if (inbound && live.queued >= this.options.maxQueuedPerSession) {
      return Promise.reject(new CosignerError('RATE_LIMITED', 'too much queued on this session'));
    }
    live.queued += 1;
    const run = live.queue.then(op);
    // The caller gets the error through `run`; the queue only has to go on to the next operation.
    live.queue = run.catch(() => undefined);
    return this.track(run.finally(() => (live.queued -= 1)));
  }

  enqueueIntake<T>(op: () => Promise<T>): Promise<T> {
    if (this.intakeQueued >= this.options.maxQueuedPerSession) {
      return Promise.reject(new CosignerError('RATE_LIMITED', 'too many announcements queued'));
    }
    this.intakeQueued += 1;
    const run = this.intake.then(op);
    // As above: the error reaches the caller through `run`.
    this.intake = run.catch(() => undefined);
    return this.track(run.finally(() => (this.intakeQueued -= 1)));
  }

  track<T>(promise: Promise<T>): Promise<T> {
    const settled = promise.then(
      () => undefined,
      () => undefined,
    );
    this.inflight.add(settled);
    void settled.then(() => this.inflight.delete(settled));
    return promise;
  }

  /** Unused secret nonces are zeroed, not left in memory until collected. */
  dropSecrets(live: Live): void {
    live.secrets?.nonces.forEach(discardSecretNonce);
    live.secrets = undefined;
    live.batch = undefined;
  }

  newLive(
    announcement: Announcement,
    localIndex: number,
    state: SessionState,
    psbt: PsbtSession | undefined,
    restored?: { localSequence: number; peerSequences: readonly number[]; signingKey: Uint8Array },
  ): Live {
    const { body } = announcement;
    // A group path is recomputed from this node's book, also for history: its digests and keys
    // depend on the group's tree, which the record does not hold.
    const path = body.tweak === 'path' ? this.resolvePath(body) : undefined;
    const keys = body.payload.kind === 'psbt' || ((psbt || restored) && !path) ? undefined : sessionKeys(body, path);
    const items = body.payload.kind === 'psbt' ? (psbt as PsbtSession).items : itemsOf(body.payload);
    const signingKey = restored?.signingKey ?? (psbt ? psbt.keys.signingKey : (keys as SessionKeys).signingKey);
    return {
      announcement,
      localIndex,
      items,
      // A message is never signed as given: its BIP322 digest is (for a restored session, from the
      // stored key, which an open session checks against the signers before it signs).
      messages:
        body.payload.kind === 'psbt' ? items.map((item) => item.message) : (keys?.messages ?? messageDigests(body.payload, signingKey)),
      verifyKeys: psbt ? psbt.verifyKeys : (keys?.verifyKeys ?? items.map(() => signingKey)),
      signingKey,
      path,
      psbt,
      keys,
      deadline: deadlineOf(body, this.options.sessionTimeoutMs),
      replay: new SequenceTracker(body.signers.length, this.options, restored?.peerSequences),
      state,
      localSequence: restored?.localSequence ?? 0,
      secrets: undefined,
      batch: undefined,
      queue: Promise.resolve(),
      queued: 0,
    };
  }

  keysOf(live: Live): SessionKeys {
    live.keys ??= live.psbt ? live.psbt.keys : sessionKeys(live.announcement.body, live.path);
    return live.keys;
  }

  /** The group path a request names, recomputed from this node's book (group-path.ts). */
  resolvePath(body: AnnouncementBody): ResolvedPath {
    return resolveGroupPath(body, this.groupById, this.options.bitcoinNetwork ?? 'mainnet', this.spendKeys);
  }

  snapshot(live: Live): SessionSnapshot {
    return snapshotOf({
      announcement: live.announcement,
      state: live.state,
      localIndex: live.localIndex,
      signingKey: live.signingKey,
      items: live.items,
      psbt: live.psbt?.view ?? null,
      bip322: live.psbt ? null : this.bip322Of(live.signingKey, live.messages),
      path: live.path,
      maxAttempts: this.options.maxAttempts,
    });
  }

  /** A message session's address is named for this node's network (mainnet where it has none): the
   *  BIP322 digests, and so the signatures, depend on the output key alone. */
  bip322Of(outputKey: Uint8Array, digests: readonly Uint8Array[]): { address: string; digests: readonly Uint8Array[] } {
    return { address: taprootAddress(outputKey, this.options.bitcoinNetwork ?? 'mainnet'), digests };
  }

  entryOf(live: Live): IndexEntry {
    return { ...summaryOf(this.snapshot(live)), localKey: bytesToHex(this.localKeyOf(live)) };
  }

  localKeyOf(live: Live): Uint8Array {
    return live.announcement.body.signers[live.localIndex] as Uint8Array;
  }

  /**
   * The PSBT side of a session whose payload is a PSBT (see intakePsbt for what is refused): planned
   * along the group path the request names (its group from this node's book), or else as the n-of-n
   * key path of its signers.
   */
  intakePsbt(body: AnnouncementBody): PsbtSession | undefined {
    const { payload } = body;
    if (payload.kind !== 'psbt') return undefined;
    const localPolicy = this.options.allowNonDefaultSighash?.() === true;
    const network = this.options.bitcoinNetwork;
    if (body.group === undefined) return PsbtSession.open(body, intakePsbt(payload, body.signers, this.groupKeys, network, localPolicy));
    const id = bytesToHex(body.group.id);
    const saved = this.groupById?.(id);
    if (saved === undefined) throw new CosignerError('UNKNOWN_GROUP', 'the named group is not saved on this node', { groupId: id });
    const spend = this.spendKeys.of({ id, publicKeys: saved.publicKeys, policy: saved.policy, network: payload.network });
    return PsbtSession.open(body, intakePathPsbt(payload, body.signers, { spend, path: body.group.path }, network, localPolicy));
  }

  /** A signed message with this node's next sequence number (reserved now, stored by the commit that sends it). */
  message(live: Live, attempt: number, body: MessageBody, now: number, secretKey?: Uint8Array): { frame: Uint8Array; sequence: number } {
    const sequence = nextSequence(live.localSequence);
    const frame = this.sign(
      { sessionId: live.announcement.id, sender: live.localIndex, attempt, sequence, timestamp: now, body },
      secretKey,
    );
    live.localSequence = sequence;
    return { frame, sequence };
  }

  sign(message: SessionMessage, secretKey?: Uint8Array): Uint8Array {
    const key = secretKey ?? this.signer.secretKey();
    try {
      return signMessage(message, key, this.random.bytes(32));
    } finally {
      if (secretKey === undefined) key.fill(0);
    }
  }

  assertRunning(): void {
    if (!this.running) throw new CosignerError('NOT_RUNNING', 'the coordinator is not running');
  }

  assertOpen(live: Live): void {
    const { phase, failure } = live.state;
    if (!isTerminal(phase)) return;
    const code: ErrorCode =
      phase === 'EXPIRED' ? 'EXPIRED' : phase === 'DECLINED' ? 'DECLINED' : phase === 'ABORTED' ? 'ABORTED' : 'WRONG_PHASE';
    throw new CosignerError(code, `the session is ${phase}`, { sessionId: live.announcement.idHex, cause: failure?.code });
  }

  awaitsLocalDecision(live: Live): boolean {
    return !isTerminal(live.state.phase) && !live.state.approved[live.localIndex];
  }

  autoApproves(snapshot: SessionSnapshot): boolean {
    try {
      return this.options.autoApprove?.(snapshot) === true;
    } catch {
      // A policy that throws approves nothing; counted with the other callbacks that threw.
      this.counters.listenerErrors += 1;
      return false;
    }
  }

  /** Room for one more session: the oldest finished one leaves memory if needed (it stays stored). */
  makeRoom(): void {
    if (this.sessions.size < this.options.maxSessions) return;
    let oldest: [string, Live] | undefined;
    for (const entry of this.sessions) {
      if (isTerminal(entry[1].state.phase) && (!oldest || entry[1].state.updatedAt < oldest[1].state.updatedAt)) oldest = entry;
    }
    if (!oldest) throw new CosignerError('LIMIT_REACHED', 'too many active sessions', { max: this.options.maxSessions });
    this.sessions.delete(oldest[0]);
  }

  deadlines(live: Live): { expiresAt: number; stuckSessionTimeoutMs: number } {
    return { expiresAt: live.deadline, stuckSessionTimeoutMs: this.options.stuckSessionTimeoutMs };
  }

  armDeadline(): void {
    if (!this.running || !this.options.enableAutoCleanup) return;
    let next = Infinity;
    for (const live of this.sessions.values()) {
      if (isTerminal(live.state.phase)) continue;
      next = Math.min(next, live.deadline);
      if (isExchange(live.state.phase)) next = Math.min(next, live.state.phaseSince + this.options.stuckSessionTimeoutMs);
    }
    if (this.deadlineTimer && this.deadlineTimer.at === next) return;
    if (this.deadlineTimer) this.scheduler.clear(this.deadlineTimer.handle);
    this.deadlineTimer = undefined;
    if (next === Infinity) return;
    const handle = this.scheduler.setTimeout(
      () => {
        this.deadlineTimer = undefined;
        void this.sweep().catch(() => (this.counters.sweepFailures += 1));
      },
      Math.max(0, next - this.clock.now()) + 1,
    );
    this.deadlineTimer = { handle, at: next };
  }

  /**
   * Builds the verification tables of a request's co-signer keys (KeyVerifier), one key per scheduler
   * turn so that nothing waits behind them: they are ready long before the signers have decided, and
   * every message of theirs is then checked in about half the time.
   */
  prepareKeys(signers: readonly Uint8Array[]): void {
    for (const key of signers) {
      if (!equalKeys(key, this.localKey) && this.toPrepare.size < PREPARED_KEYS) this.toPrepare.add(bytesToHex(key.subarray(1)));
    }
    this.schedulePrepare();
  }

  schedulePrepare(): void {
    if (this.prepareTimer !== undefined || this.toPrepare.size === 0 || !this.running) return;
    this.prepareTimer = this.scheduler.setTimeout(() => {
      this.prepareTimer = undefined;
      const next = this.toPrepare.values().next();
      if (next.done === true) return;
      this.toPrepare.delete(next.value);
      this.verifier.prepare(hexToBytes(next.value));
      this.schedulePrepare();
    }, 0);
  }
}
