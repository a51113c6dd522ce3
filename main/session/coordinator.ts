/**
 * The session coordinator: runs co-signing sessions over injected ports (clock, scheduler, randomness,
 * transport, record store, signer key), so it behaves the same in tests, the headless daemon and
 * Electron. The protocol it implements is docs/PROTOCOL.md; the pure parts live in codec.ts, state.ts,
 * replay-guard.ts and friends, and this file wires them: queues, timers, storage, events, sending.
 *
 * Concurrency: every operation on a session (an inbound message, a user action, a timeout) runs in
 * that session's serial queue, and announcements in one intake queue, so state changes never
 * interleave. Every queue, map and timer is bounded (limits.ts).
 */
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { base64 } from '@scure/base';
import type { BitcoinNetwork, HistoryPage } from '../../preload/contract.ts';
import { CosignerError, isCosignerError, type ErrorCode } from '../errors.ts';
import { discardSecretNonce, KeyVerifier, verifySignature, type SecretNonce } from '../musig/index.ts';
import { taprootAddress } from '../wallet/group.ts';
import { psbtBytes } from '../wallet/psbt-import.ts';
import { checkAnnouncementBody, equalKeys, itemsOf, signAnnouncement, verifyAnnouncement, type Announcement } from './announcement.ts';
import {
  decodeFrame,
  SALT_BYTES,
  type AnnouncementBody,
  type BatchItem,
  type DecodedFrame,
  type MessageBody,
  type NonceEvidence,
  type Payload,
  type SessionMessage,
  type TweakMode,
} from './codec.ts';
import { deadlineOf, refusalLimiter, verdictOf } from './intake-rules.ts';
import { MAX_REASON_BYTES, resolveOptions, type CoordinatorOptions } from './limits.ts';
import { messageSignatureValid, nonceEvidenceValid, signMessage } from './messages.ts';
import { OrphanBuffer } from './orphan-buffer.ts';
import type { Clock, FrameKind, InboundFrame, OutboundMeta, Random, RecordStore, Scheduler, SessionTransport, SignerKey, TimerHandle } from './ports.ts';
import type { InboundVerdict, KnownGroup } from './ports.ts';
import { GroupKeysCache, intakePsbt, PsbtSession, type StoredPsbt } from './psbt-session.ts';
import { PeerRateLimiter } from './rate-limiter.ts';
import { fromRecord, toRecord, type Restored } from './records.ts';
import { checkTimestamp, nextSequence, SequenceTracker } from './replay-guard.ts';
import { recordsToDelete, REPLAY_HORIZON_MS } from './retention.ts';
import {
  aggregatePartials,
  invalidNonceIndex,
  makeNonces,
  messageDigests,
  sessionKeys,
  signingBatch,
  signPartials,
  type Batch,
  type SessionKeys,
} from './session-crypto.ts';
import { isSessionKey, SessionIndex, type IndexEntry } from './session-index.ts';
import { summaryOf } from './session-summary.ts';
import { snapshotOf, type SessionSnapshot } from './snapshot.ts';
import {
  approve as approveState,
  canAct,
  complete,
  derivePhase,
  end,
  initialState,
  isExchange,
  isTerminal,
  PHASES,
  recordNonces,
  recordPartials,
  startAttempt,
  timeoutOf,
  withPhase,
  type Failure,
  type Phase,
  type SessionState,
} from './state.ts';

export interface CoordinatorDeps {
  clock: Clock;
  scheduler: Scheduler;
  random: Random;
  transport: SessionTransport;
  store: RecordStore;
  signer: SignerKey;
  /** The groups this node's user saved: requests for any other signer set are refused (UNKNOWN_GROUP). */
  knownGroup: KnownGroup;
  options?: Partial<CoordinatorOptions>;
  /** Shared with whatever else reviews PSBTs for the same groups (derivations are made once). */
  groupKeys?: GroupKeysCache;
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
  /** Must be 'taproot': everything is signed under the group's BIP341 key-path output key (a message
   *  as a BIP322 signature for its address). 'none', the plain aggregate key, is refused. */
  tweak: TweakMode;
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

/** Refused requests remembered for health(). */
const MAX_REFUSED_REQUESTS = 16;
/** Co-signer keys whose verification tables a node keeps (KeyVerifier): about 120 kB and 8 ms each. */
const PREPARED_KEYS = 64;

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
type Listener<E extends keyof CoordinatorEvents> = (payload: CoordinatorEvents[E]) => void;

const MAX_LISTENERS = 64;

interface Live {
  readonly announcement: Announcement;
  readonly localIndex: number;
  /** The messages asked for, with their labels. */
  readonly items: readonly BatchItem[];
  /** What is signed, per item: its BIP322 digest (for a PSBT, the input's BIP341 sighash). */
  readonly messages: readonly Uint8Array[];
  /** Per message, the x-only key its signature verifies under. */
  readonly verifyKeys: readonly Uint8Array[];
  /** x-only key the snapshot names (stored, so history needs no key aggregation). */
  readonly signingKey: Uint8Array;
  /** The PSBT side of a PSBT session. */
  readonly psbt: PsbtSession | undefined;
  /** The key-aggregation context, computed when first needed (it costs a multiplication per signer). */
  keys: SessionKeys | undefined;
  /** min(announced expiry, creation + sessionTimeout) */
  readonly deadline: number;
  readonly replay: SequenceTracker;
  state: SessionState;
  localSequence: number;
  /** Only in memory, only for the attempt they were made for; dropped on any change of attempt or end. */
  secrets: { attempt: number; nonces: SecretNonce[] } | undefined;
  batch: { attempt: number; batch: Batch } | undefined;
  queue: Promise<unknown>;
  queued: number;
}

type Outcome = { state: SessionState } | { failure: Failure };

function fail(code: ErrorCode, reason: string, blame: number[], reportedBy: number): Outcome {
  return { failure: { code, reason, blame, reportedBy, verified: true } };
}

const utf8 = new TextEncoder();

/** Cuts `text` to at most `max` UTF-8 bytes without splitting a character. */
function clip(text: string, max: number): string {
  let out = '';
  let size = 0;
  for (const char of text) {
    size += utf8.encode(char).length;
    if (size > max) break;
    out += char;
  }
  return out;
}

function parseHex(value: string, field: string): Uint8Array {
  if (typeof value !== 'string' || !/^(?:[0-9a-fA-F]{2})*$/.test(value)) {
    throw new CosignerError('INVALID_INPUT', `${field} must be hex`, { field });
  }
  return hexToBytes(value.toLowerCase());
}

function sameNonces(a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean {
  return a.length === b.length && a.every((x, i) => equalKeys(x, b[i] as Uint8Array));
}

export class SessionCoordinator {
  readonly #clock: Clock;
  readonly #scheduler: Scheduler;
  readonly #random: Random;
  readonly #transport: SessionTransport;
  readonly #store: RecordStore;
  readonly #signer: SignerKey;
  readonly #knownGroup: KnownGroup;
  readonly #localKey: Uint8Array;
  readonly #groupKeys: GroupKeysCache;
  readonly options: Readonly<CoordinatorOptions>;

  readonly #sessions = new Map<string, Live>();
  readonly #orphans: OrphanBuffer;
  readonly #rate: PeerRateLimiter;
  /** DECLINEs of refused requests, per creator key (intake-rules.ts). */
  readonly #refusals = refusalLimiter();
  readonly #listeners: { [E in keyof CoordinatorEvents]: Set<Listener<E>> } = { session: new Set(), request: new Set() };
  readonly #inflight = new Set<Promise<unknown>>();
  #intake: Promise<unknown> = Promise.resolve();
  #intakeQueued = 0;

  #running = false;
  #starting: Promise<void> | undefined;
  #unsubscribe: (() => void) | undefined;
  #timer: TimerHandle | undefined;
  /** One timer at the earliest deadline of any open session, so expiry and stuck aborts happen on time
   *  rather than at the next periodic sweep. */
  #deadlineTimer: { handle: TimerHandle; at: number } | undefined;
  #lastCleanupAt: number | null = null;
  readonly #rejected = new Map<string, number>();
  readonly #refusedRequests: RefusedRequest[] = [];
  /** Verifies the signers' messages, with the tables of the co-signers of recent requests. */
  readonly #verifier = new KeyVerifier(PREPARED_KEYS);
  /** Co-signer keys (x-only hex) whose tables are still to build, one per scheduler turn. */
  readonly #toPrepare = new Set<string>();
  #prepareTimer: TimerHandle | undefined;
  readonly #counters = { sendFailures: 0, storageFailures: 0, corruptRecords: 0, listenerErrors: 0, sweepFailures: 0 };
  /** One line per stored session, for history and retention (loaded by start). */
  #index = new SessionIndex();
  #retaining = false;

  constructor(deps: CoordinatorDeps) {
    this.#clock = deps.clock;
    this.#scheduler = deps.scheduler;
    this.#random = deps.random;
    this.#transport = deps.transport;
    this.#store = deps.store;
    this.#signer = deps.signer;
    this.#knownGroup = deps.knownGroup;
    this.#localKey = Uint8Array.from(deps.signer.publicKey);
    this.#groupKeys = deps.groupKeys ?? new GroupKeysCache();
    this.options = Object.freeze(resolveOptions(deps.options));
    this.#orphans = new OrphanBuffer({
      maxFrames: this.options.maxOrphanFrames,
      maxPerPeer: this.options.maxOrphansPerPeer,
      ttlMs: this.options.orphanTtlMs,
    });
    this.#rate = new PeerRateLimiter({
      ratePerSecond: this.options.ratePerPeerPerSecond,
      burst: this.options.rateBurst,
      maxPeers: this.options.maxTrackedPeers,
    });
  }

  // ------------------------------------------------------------------ lifecycle

  /** Loads the stored sessions of the local signer, subscribes to the transport, starts the sweep timer. */
  start(): Promise<void> {
    if (this.#running) return Promise.resolve();
    this.#starting ??= this.#start().finally(() => (this.#starting = undefined));
    return this.#starting;
  }

  async #start(): Promise<void> {
    await this.#load();
    this.#running = true;
    this.#unsubscribe = this.#transport.subscribe((inbound) => this.#onFrame(inbound));
    if (this.options.enableAutoCleanup) {
      this.#timer = this.#scheduler.setInterval(() => void this.sweep().catch(() => (this.#counters.sweepFailures += 1)), this.options.cleanupIntervalMs);
    }
    await this.sweep();
  }

  #armDeadline(): void {
    if (!this.#running || !this.options.enableAutoCleanup) return;
    let next = Infinity;
    for (const live of this.#sessions.values()) {
      if (isTerminal(live.state.phase)) continue;
      next = Math.min(next, live.deadline);
      if (isExchange(live.state.phase)) next = Math.min(next, live.state.phaseSince + this.options.stuckSessionTimeoutMs);
    }
    if (this.#deadlineTimer && this.#deadlineTimer.at === next) return;
    if (this.#deadlineTimer) this.#scheduler.clear(this.#deadlineTimer.handle);
    this.#deadlineTimer = undefined;
    if (next === Infinity) return;
    const handle = this.#scheduler.setTimeout(() => {
      this.#deadlineTimer = undefined;
      void this.sweep().catch(() => (this.#counters.sweepFailures += 1));
    }, Math.max(0, next - this.#clock.now()) + 1);
    this.#deadlineTimer = { handle, at: next };
  }

  /**
   * Stops the timer and the intake, lets queued work finish (so what was decided is stored), then
   * closes every session: secret nonces are dropped and memory emptied. Stored records stay; a later
   * start() picks the sessions up again (those cut off mid-exchange need a resume).
   */
  async cleanup(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    if (this.#timer !== undefined) this.#scheduler.clear(this.#timer);
    this.#timer = undefined;
    if (this.#deadlineTimer !== undefined) this.#scheduler.clear(this.#deadlineTimer.handle);
    this.#deadlineTimer = undefined;
    if (this.#prepareTimer !== undefined) this.#scheduler.clear(this.#prepareTimer);
    this.#prepareTimer = undefined;
    this.#toPrepare.clear();
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    await this.idle();
    await this.#index.save(this.#store).catch(() => (this.#counters.sweepFailures += 1));
    for (const live of this.#sessions.values()) this.#dropSecrets(live);
    this.#sessions.clear();
    this.#orphans.clear();
  }

  get running(): boolean {
    return this.#running;
  }

  /** Resolves once every queued operation has finished. */
  async idle(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
  }

  on<E extends keyof CoordinatorEvents>(event: E, listener: Listener<E>): () => void {
    const set = this.#listeners[event] as Set<Listener<E>>;
    if (set.size >= MAX_LISTENERS) throw new CosignerError('LIMIT_REACHED', 'too many listeners', { event });
    set.add(listener);
    return () => set.delete(listener);
  }

  // ------------------------------------------------------------------ queries

  list(): SessionSnapshot[] {
    return [...this.#sessions.values()].map((live) => this.#snapshot(live));
  }

  /** A session in memory, or else from the store (finished sessions leave memory after sessionTimeout):
   *  its record read and checked as at start, stored signatures verified. */
  async get(sessionId: string): Promise<SessionSnapshot | undefined> {
    const live = this.#sessions.get(sessionId);
    if (live) return this.#snapshot(live);
    if (!isSessionKey(sessionId)) return undefined;
    const json = await this.#store.get(sessionId);
    if (json === undefined) return undefined;
    let stored: Live;
    try {
      stored = this.#restoreRecord(json, false);
    } catch {
      this.#counters.corruptRecords += 1;
      return undefined;
    }
    return equalKeys(this.#localKeyOf(stored), this.#localKey) ? this.#snapshot(stored) : undefined;
  }

  /** This node's copy of a PSBT session's PSBT, base64 (see PsbtSession.psbt). */
  async psbt(sessionId: string): Promise<string> {
    const live = this.#sessions.get(sessionId);
    let psbt = live?.psbt;
    if (!live && /^[0-9a-f]{64}$/.test(sessionId)) {
      const json = await this.#store.get(sessionId);
      const record = json === undefined ? undefined : fromRecord(json);
      if (record && equalKeys(record.localKey, this.#localKey)) {
        if (record.announcement.body.payload.kind !== 'psbt') throw new CosignerError('WRONG_PHASE', 'not a PSBT session', { sessionId });
        psbt = this.#restoredPsbt(record, false);
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
    return this.#index.page(bytesToHex(this.#localKey), cursor, limit);
  }

  health(): CoordinatorHealth {
    const now = this.#clock.now();
    const sessionsByPhase = Object.fromEntries(PHASES.map((p) => [p, 0])) as Record<Phase, number>;
    let oldest: number | null = null;
    let pendingApprovals = 0;
    for (const live of this.#sessions.values()) {
      const { phase } = live.state;
      sessionsByPhase[phase] += 1;
      if (!isTerminal(phase)) {
        const age = Math.max(0, now - live.announcement.body.createdAt);
        oldest = oldest === null ? age : Math.max(oldest, age);
      }
      if (this.#awaitsLocalDecision(live)) pendingApprovals += 1;
    }
    return {
      running: this.#running,
      sessionsByPhase,
      oldestSessionAgeMs: oldest,
      pendingApprovals,
      lastCleanupAt: this.#lastCleanupAt,
      rejectedMessages: Object.fromEntries(this.#rejected),
      orphanedFrames: this.#orphans.size,
      trackedPeers: this.#rate.size,
      ...this.#counters,
      storedSessions: this.#index.size,
      refusedRequests: this.#refusedRequests.map((r) => ({ ...r })),
    };
  }

  // ------------------------------------------------------------------ user actions

  /** Builds, signs, stores and sends a signing request; the creator's signature is its approval. */
  async createSession(input: CreateSessionInput): Promise<SessionSnapshot> {
    this.#assertRunning();
    const now = this.#clock.now();
    const body = this.#buildBody(input, now);
    checkAnnouncementBody(body, this.options.maxSigners);
    // The creator reviews its own PSBT exactly as every receiver will, before anything is sent.
    const psbt = this.#intakePsbt(body);
    return this.#enqueueIntake(async () => {
      this.#makeRoom();
      const secretKey = this.#signer.secretKey();
      let announcement: Announcement;
      try {
        announcement = signAnnouncement(body, secretKey, this.#random.bytes(32));
      } finally {
        secretKey.fill(0);
      }
      const live = this.#newLive(announcement, body.creatorIndex, initialState(body.signers.length, body.creatorIndex, now), psbt);
      await this.#commit(live, live.state, [], true);
      this.#sessions.set(announcement.idHex, live);
      this.#armDeadline();
      this.#broadcast(live, announcement.frame, 'announcement');
      this.#prepareKeys(body.signers);
      return this.#snapshot(live);
    });
  }

  /** The local user's approval: only now may this node make nonces and sign. Idempotent. */
  approve(sessionId: string): Promise<SessionSnapshot> {
    return this.#act(sessionId, async (live) => {
      this.#assertOpen(live);
      if (!live.state.approved[live.localIndex]) await this.#approveLocally(live);
      return this.#snapshot(live);
    });
  }

  /** Declines a request not yet approved: the session ends DECLINED for everyone. */
  decline(sessionId: string, reason = ''): Promise<SessionSnapshot> {
    return this.#act(sessionId, async (live) => {
      this.#assertOpen(live);
      if (live.state.approved[live.localIndex]) {
        throw new CosignerError('WRONG_PHASE', 'already approved: abort instead', { sessionId });
      }
      const text = clip(reason, MAX_REASON_BYTES);
      await this.#end(live, 'DECLINED', { code: 'DECLINED', reason: text, blame: [live.localIndex], reportedBy: live.localIndex, verified: true }, {
        type: 'decline',
        reason: text,
      });
      return this.#snapshot(live);
    });
  }

  /** Ends a session not finished yet, for everyone (e.g. the user cancels after approving). */
  abort(sessionId: string, reason = 'cancelled by the user'): Promise<SessionSnapshot> {
    return this.#act(sessionId, async (live) => {
      this.#assertOpen(live);
      await this.#endWithAbort(live, 'ABORTED', { code: 'ABORTED', reason: clip(reason, MAX_REASON_BYTES), blame: [], reportedBy: live.localIndex, verified: true });
      return this.#snapshot(live);
    });
  }

  /**
   * Starts the next attempt of a session cut off in an exchange phase: everyone makes fresh nonces.
   * No one is asked to approve again: the content, which is what was approved, is the same (the
   * session id commits to it); only the nonces change.
   */
  resume(sessionId: string): Promise<SessionSnapshot> {
    return this.#act(sessionId, async (live) => {
      this.#assertOpen(live);
      const { state } = live;
      if (!isExchange(state.phase)) {
        throw new CosignerError('WRONG_PHASE', 'only a session in an exchange phase can be resumed', { phase: state.phase });
      }
      if (state.attempt >= this.options.maxAttempts) {
        throw new CosignerError('LIMIT_REACHED', 'no attempts left', { attempts: state.attempt });
      }
      this.#dropSecrets(live);
      await this.#commit(live, startAttempt(state, state.attempt + 1, this.#clock.now()));
      await this.#advance(live);
      return this.#snapshot(live);
    });
  }

  /**
   * One cleanup pass: ends sessions past their deadline (EXPIRED) or stuck in an exchange phase
   * (ABORTED, SESSION_STUCK), lets finished sessions older than sessionTimeout leave memory, drops
   * orphaned frames past their TTL, deletes the records retention no longer keeps and saves the index.
   * The timer runs it every cleanupInterval.
   */
  async sweep(): Promise<SweepReport> {
    const report: SweepReport = { expired: 0, stuck: 0, evicted: 0, orphansDropped: 0, deleted: 0 };
    for (const live of [...this.#sessions.values()]) {
      const ended = await this.#enqueue(live, () => this.#applyTimeouts(live), false).catch(() => undefined);
      if (ended === 'EXPIRED') report.expired += 1;
      if (ended === 'ABORTED') report.stuck += 1;
    }
    const now = this.#clock.now();
    for (const [id, live] of this.#sessions) {
      if (isTerminal(live.state.phase) && now - live.announcement.body.createdAt >= this.options.sessionTimeoutMs) {
        this.#sessions.delete(id);
        report.evicted += 1;
      }
    }
    report.orphansDropped = this.#orphans.prune(now);
    // Tracked, so idle() and cleanup() wait for its deletions and its save of the index.
    report.deleted = await this.#track(this.#retain(now));
    this.#lastCleanupAt = now;
    this.#armDeadline();
    return report;
  }

  // ------------------------------------------------------------------ inbound

  /** An announcement's verdict waits for its intake (stored, or refused and why), so the transport
   *  acknowledges nothing it may lose; a session message is queued and accepted at once. */
  #onFrame(inbound: InboundFrame): InboundVerdict | Promise<InboundVerdict> {
    if (!this.#running) return 'retry';
    if (!this.#rate.allow(inbound.fromPeer, this.#clock.now())) {
      this.#reject('RATE_LIMITED');
      return 'retry';
    }
    return this.#dispatch(inbound);
  }

  #dispatch(inbound: InboundFrame): InboundVerdict | Promise<InboundVerdict> {
    let decoded: DecodedFrame;
    try {
      decoded = decodeFrame(inbound.frame);
    } catch (e) {
      this.#reject(isCosignerError(e) ? e.code : 'MALFORMED_MESSAGE');
      return 'refused';
    }
    if (decoded.type === 'announcement') {
      return this.#enqueueIntake(() => this.#receiveAnnouncement(decoded, inbound)).then(
        (): InboundVerdict => 'accepted',
        (e: unknown) => {
          this.#rejectError(e);
          return verdictOf(e);
        },
      );
    }
    const id = bytesToHex(decoded.message.sessionId);
    const live = this.#sessions.get(id);
    if (!live) {
      // Possibly ahead of its announcement: held, unverified and bounded, until the announcement comes.
      if (!this.#orphans.add(id, inbound, this.#clock.now())) this.#reject('UNKNOWN_SESSION');
      return 'accepted';
    }
    this.#enqueue(live, () => this.#receiveMessage(live, decoded, inbound), true).catch((e: unknown) => this.#rejectError(e));
    return 'accepted';
  }

  async #receiveAnnouncement(decoded: DecodedFrame, inbound: InboundFrame): Promise<void> {
    if (decoded.type !== 'announcement') return;
    const now = this.#clock.now();
    const announcement = verifyAnnouncement(decoded, {
      localKey: this.#localKey,
      now,
      maxSigners: this.options.maxSigners,
      timestampWindowMs: this.options.timestampWindowMs,
    });
    const { body } = announcement;
    // At the door: only a co-signer of a saved group, for exactly that group, gets any further. A
    // stranger's request costs no record, no PSBT reading and no message back (no DECLINE).
    if (!this.#knownGroup(body.signers)) {
      throw new CosignerError('UNKNOWN_GROUP', 'the signers are not a group saved on this node');
    }
    const creator = body.signers[body.creatorIndex] as Uint8Array;
    if (this.#transport.peerOf(creator) !== inbound.fromPeer) {
      throw new CosignerError('WRONG_PEER', 'announcement not from the peer bound to its creator');
    }
    if (body.createdAt + this.options.sessionTimeoutMs <= now) {
      throw new CosignerError('EXPIRED', 'the announcement is older than the session timeout');
    }
    if (this.#sessions.has(announcement.idHex) || (await this.#store.get(announcement.idHex)) !== undefined) {
      throw new CosignerError('REPLAYED', 'announcement already seen', { sessionId: announcement.idHex });
    }
    // A refused request delivered again (transport retries, DHT inbox) is not reviewed again: a
    // PSBT intake can cost seconds of key derivation.
    if (this.#refusedRequests.some((r) => r.sessionId === announcement.idHex)) {
      throw new CosignerError('REPLAYED', 'announcement already refused', { sessionId: announcement.idHex });
    }
    const pending = [...this.#sessions.values()].filter((l) => this.#awaitsLocalDecision(l));
    if (pending.length >= this.options.maxPendingApprovals) {
      throw new CosignerError('LIMIT_REACHED', 'too many requests awaiting approval');
    }
    const fromCreator = pending.filter((l) => equalKeys(l.announcement.body.signers[l.announcement.body.creatorIndex] as Uint8Array, creator));
    if (fromCreator.length >= this.options.maxPendingPerCreator) {
      throw new CosignerError('LIMIT_REACHED', 'too many requests awaiting approval from this creator');
    }
    // Last, being the costliest check: the PSBT is read, reviewed and planned by this node itself.
    let psbt: PsbtSession | undefined;
    try {
      psbt = this.#intakePsbt(body);
    } catch (e) {
      this.#noteRefusal(announcement, e);
      this.#declineRefused(announcement, e, now);
      throw e;
    }
    this.#makeRoom();
    const localIndex = body.signers.findIndex((key) => equalKeys(key, this.#localKey));
    const live = this.#newLive(announcement, localIndex, initialState(body.signers.length, body.creatorIndex, now), psbt);
    await this.#commit(live, live.state, [], true);
    this.#sessions.set(announcement.idHex, live);
    this.#armDeadline();
    const snapshot = this.#snapshot(live);
    this.#emit('request', snapshot);
    this.#prepareKeys(body.signers);
    for (const orphan of this.#orphans.take(announcement.idHex)) void this.#dispatch(orphan);
    if (this.#autoApproves(snapshot)) {
      await this.#enqueue(live, async () => {
        if (!isTerminal(live.state.phase) && !live.state.approved[localIndex]) await this.#approveLocally(live);
      }, false);
    }
  }

  async #receiveMessage(live: Live, decoded: DecodedFrame, inbound: InboundFrame): Promise<void> {
    if (decoded.type === 'announcement') return;
    const m = decoded.message;
    const { signers } = live.announcement.body;
    const senderKey = signers[m.sender];
    if (senderKey === undefined) throw new CosignerError('NOT_A_SIGNER', 'no signer at this index', { sender: m.sender });
    if (m.sender === live.localIndex) throw new CosignerError('REPLAYED', "a copy of this node's own message");
    // The transport's authenticated peer must be the one bound to the signer: a signature alone would
    // let any peer inject (or re-send) a signer's messages.
    if (this.#transport.peerOf(senderKey) !== inbound.fromPeer) {
      throw new CosignerError('WRONG_PEER', 'message not from the peer bound to its signer', { sender: m.sender });
    }
    const now = this.#clock.now();
    checkTimestamp(m.timestamp, now, this.options);
    if (!messageSignatureValid(decoded.signed, decoded.signature, senderKey, this.#verifier)) {
      throw new CosignerError('BAD_SIGNATURE', 'message not signed by its sender', { sender: m.sender });
    }
    live.replay.accept(m.sender, m.sequence);
    if (m.attempt > this.options.maxAttempts) throw new CosignerError('LIMIT_REACHED', 'attempt beyond the limit', { attempt: m.attempt });
    if (isTerminal(live.state.phase) || (await this.#applyTimeouts(live)) !== undefined) {
      throw new CosignerError('WRONG_PHASE', 'the session has ended', { phase: live.state.phase });
    }
    const body = m.body;
    switch (body.type) {
      case 'decline':
        // Its sender's own signed word about itself: checked here like any signed contribution.
        await this.#end(live, 'DECLINED', { code: 'DECLINED', reason: body.reason, blame: [m.sender], reportedBy: m.sender, verified: true });
        return;
      case 'abort':
        await this.#end(live, 'ABORTED', {
          code: body.code,
          reason: body.reason,
          blame: [...new Set(body.blame)].filter((i) => i < signers.length),
          reportedBy: m.sender,
          // Nothing here checked what the sender says of others: its blame stays its claim.
          verified: false,
        });
        return;
      default:
        await this.#receiveContribution(live, m, decoded.signature);
    }
  }

  async #receiveContribution(live: Live, m: SessionMessage, signature: Uint8Array): Promise<void> {
    const now = this.#clock.now();
    // Approval is for the session, so any contribution, of any attempt, says its sender approved.
    let state = approveState(live.state, m.sender, now);
    if (m.attempt <= state.attemptFloor || m.attempt < state.attempt) {
      if (state !== live.state) {
        await this.#commit(live, withPhase(state, now));
        await this.#advance(live);
      }
      throw new CosignerError('STALE_ATTEMPT', 'message of an attempt this node cannot act in', { attempt: m.attempt });
    }
    if (m.attempt > state.attempt) {
      this.#dropSecrets(live);
      state = startAttempt(state, m.attempt, now);
    }
    const outcome =
      m.body.type === 'nonces'
        ? this.#acceptNonces(live, state, m.sender, {
            sequence: m.sequence,
            timestamp: m.timestamp,
            signature,
            nonces: m.body.nonces,
          })
        : m.body.type === 'partials'
          ? this.#acceptPartials(live, state, m)
          : { state };
    if ('failure' in outcome) {
      await this.#endWithAbort(live, 'ABORTED', outcome.failure);
      return;
    }
    if (outcome.state !== live.state) await this.#commit(live, withPhase(outcome.state, now));
    await this.#advance(live);
  }

  #acceptNonces(live: Live, state: SessionState, sender: number, evidence: NonceEvidence): Outcome {
    const local = live.localIndex;
    if (evidence.nonces.length !== live.messages.length) {
      return fail('MALFORMED_MESSAGE', `signer ${sender} sent ${evidence.nonces.length} nonces for ${live.messages.length} messages`, [sender], local);
    }
    const bad = invalidNonceIndex(evidence.nonces);
    if (bad !== undefined) return fail('INVALID_PUBLIC_NONCE', `signer ${sender} sent an invalid nonce for message ${bad}`, [sender], local);
    const recorded = recordNonces(state, sender, evidence, this.#clock.now());
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
  #acceptPartials(live: Live, state: SessionState, m: SessionMessage): Outcome {
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
      if (!nonceEvidenceValid(live.announcement.id, i, m.attempt, e, signers[i] as Uint8Array, this.#verifier)) {
        return fail('BAD_SIGNATURE', `signer ${m.sender} forwarded nonces signer ${i} did not sign`, [m.sender], local);
      }
      if (i === local) {
        return fail('EQUIVOCATION', 'this signer key signed nonces this node did not make: is the key in use on another device?', [local], local);
      }
      if (held !== undefined) {
        return fail('EQUIVOCATION', `signer ${i} signed two different nonces in attempt ${m.attempt}`, [i], local);
      }
      const adopted = this.#acceptNonces(live, next, i, e);
      if ('failure' in adopted) return adopted;
      next = adopted.state;
    }
    const recorded = recordPartials(next, m.sender, partials, this.#clock.now());
    if (recorded.kind === 'equivocation') {
      return fail('EQUIVOCATION', `signer ${m.sender} sent two different partial signatures in attempt ${m.attempt}`, [m.sender], local);
    }
    return { state: recorded.kind === 'new' ? recorded.state : next };
  }

  // ------------------------------------------------------------------ protocol steps

  async #approveLocally(live: Live): Promise<void> {
    const now = this.#clock.now();
    const state = withPhase(approveState(live.state, live.localIndex, now), now);
    // The last approval starts the nonce exchange at once, and this node's NONCES say it approved
    // (any contribution does): an APPROVE too would only cost every peer one more message to check.
    const noncesFollow = state.phase === 'NONCE_EXCHANGE' && canAct(state);
    await this.#commit(live, state, noncesFollow ? [] : [this.#message(live, state.attempt, { type: 'approve' }, now).frame]);
    await this.#advance(live);
  }

  /** Contributes whatever the current phase needs from this node, and finishes when everything is in. */
  async #advance(live: Live): Promise<void> {
    for (;;) {
      const { state } = live;
      if (isTerminal(state.phase) || !canAct(state)) return;
      const phase = derivePhase(state);
      const local = live.localIndex;
      if (phase === 'NONCE_EXCHANGE' && state.nonces[local] === undefined) {
        await this.#contributeNonces(live);
      } else if (phase === 'PARTIAL_SIG_EXCHANGE' && state.partials[local] === undefined) {
        if (!(await this.#contributePartials(live))) return;
      } else if (phase === 'PARTIAL_SIG_EXCHANGE' && state.partials.every((p) => p !== undefined)) {
        await this.#finish(live);
        return;
      } else {
        if (phase !== state.phase) await this.#commit(live, withPhase(state, this.#clock.now()));
        return;
      }
    }
  }

  /** Fresh nonces for this attempt. The record says NONCE_EXCHANGE before they leave this node, so a
   *  restart from here on can never make a second set for the same attempt. */
  async #contributeNonces(live: Live): Promise<void> {
    const now = this.#clock.now();
    const state = withPhase(live.state, now);
    const secretKey = this.#signer.secretKey();
    let made: ReturnType<typeof makeNonces> | undefined;
    let sent: { frame: Uint8Array; sequence: number };
    try {
      made = makeNonces(this.#keysOf(live), live.announcement.id, state.attempt, secretKey);
      sent = this.#message(live, state.attempt, { type: 'nonces', nonces: made.publicNonces }, now, secretKey);
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
    await this.#commit(live, withPhase(recorded.state, now), [sent.frame]);
  }

  /** Signs with this attempt's secret nonces (which the engine consumes), sends the partial signatures
   *  with the nonce messages they were made against. False when the session ended instead. */
  async #contributePartials(live: Live): Promise<boolean> {
    const now = this.#clock.now();
    const { state } = live;
    const secrets = live.secrets;
    if (secrets === undefined || secrets.attempt !== state.attempt) {
      throw new CosignerError('INTERNAL', 'no secret nonces for the current attempt');
    }
    const batch = this.#batchOf(live);
    if ('failure' in batch) {
      await this.#endWithAbort(live, 'ABORTED', batch.failure);
      return false;
    }
    const evidence = state.nonces as readonly NonceEvidence[];
    const secretKey = this.#signer.secretKey();
    let partials: Uint8Array[];
    let sent: { frame: Uint8Array; sequence: number };
    try {
      live.secrets = undefined;
      partials = signPartials(this.#keysOf(live), batch.batch, live.localIndex, secretKey, secrets.nonces);
      sent = this.#message(live, state.attempt, { type: 'partials', partials, evidence }, now, secretKey);
    } finally {
      secretKey.fill(0);
      // Signing consumed them, unless it refused them first: then they are dropped here.
      secrets.nonces.forEach(discardSecretNonce);
    }
    const recorded = recordPartials(state, live.localIndex, partials, now);
    if (recorded.kind !== 'new') throw new CosignerError('INTERNAL', 'local partial signatures already recorded');
    await this.#commit(live, recorded.state, [sent.frame]);
    return true;
  }

  async #finish(live: Live): Promise<void> {
    const now = this.#clock.now();
    const { state } = live;
    const batch = this.#batchOf(live);
    if ('failure' in batch) {
      await this.#endWithAbort(live, 'ABORTED', batch.failure);
      return;
    }
    let signatures: Uint8Array[];
    try {
      signatures = aggregatePartials(this.#keysOf(live), batch.batch, state.partials as readonly (readonly Uint8Array[])[]);
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
      await this.#endWithAbort(live, 'ABORTED', {
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
    await this.#commit(live, complete(state, signatures, now));
  }

  #batchOf(live: Live): { batch: Batch } | { failure: Failure } {
    const { attempt } = live.state;
    if (live.batch?.attempt === attempt) return { batch: live.batch.batch };
    try {
      const batch = signingBatch(this.#keysOf(live), live.state.nonces.map((e) => (e as NonceEvidence).nonces));
      live.batch = { attempt, batch };
      return { batch };
    } catch (e) {
      if (isCosignerError(e, 'INVALID_PUBLIC_NONCE')) {
        const position = e.context.signerIndex;
        const blame = typeof position === 'number' ? [this.#keysOf(live).indexAt[position] as number] : [];
        return { failure: { code: e.code, reason: e.message, blame, reportedBy: live.localIndex, verified: true } };
      }
      throw e;
    }
  }

  /** Ends the session and tells the others (ABORT), so they stop waiting. */
  async #endWithAbort(live: Live, phase: 'ABORTED', failure: Failure): Promise<void> {
    await this.#end(live, phase, failure, {
      type: 'abort',
      code: failure.code,
      blame: failure.blame,
      reason: clip(failure.reason, MAX_REASON_BYTES),
    });
  }

  async #end(live: Live, phase: 'ABORTED' | 'DECLINED' | 'EXPIRED', failure: Failure, notify?: MessageBody): Promise<void> {
    const now = this.#clock.now();
    this.#dropSecrets(live);
    const frames = notify ? [this.#message(live, live.state.attempt, notify, now).frame] : [];
    await this.#commit(live, end(live.state, phase, failure, now), frames);
  }

  /** Ends the session if a timeout calls for it; returns the phase it ended in. */
  async #applyTimeouts(live: Live): Promise<Phase | undefined> {
    const timeout = timeoutOf(live.state, live.localIndex, this.#deadlines(live), this.#clock.now());
    if (timeout === undefined) return undefined;
    // Everyone expires at the same announced time; a stuck session is local knowledge worth sharing.
    if (timeout.phase === 'ABORTED') await this.#endWithAbort(live, 'ABORTED', timeout.failure);
    else await this.#end(live, timeout.phase, timeout.failure);
    return timeout.phase;
  }

  // ------------------------------------------------------------------ plumbing

  #newLive(
    announcement: Announcement,
    localIndex: number,
    state: SessionState,
    psbt: PsbtSession | undefined,
    restored?: { localSequence: number; peerSequences: readonly number[]; signingKey: Uint8Array },
  ): Live {
    const { body } = announcement;
    const keys = psbt || restored ? undefined : sessionKeys(body);
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
      verifyKeys: psbt ? psbt.verifyKeys : items.map(() => signingKey),
      signingKey,
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

  #keysOf(live: Live): SessionKeys {
    live.keys ??= live.psbt ? live.psbt.keys : sessionKeys(live.announcement.body);
    return live.keys;
  }

  /** The PSBT side of a session whose payload is a PSBT (see intakePsbt for what is refused). */
  #intakePsbt(body: AnnouncementBody): PsbtSession | undefined {
    if (body.payload.kind !== 'psbt') return undefined;
    const localPolicy = this.options.allowNonDefaultSighash?.() === true;
    return PsbtSession.open(body, intakePsbt(body.payload, body.signers, this.#groupKeys, this.options.bitcoinNetwork, localPolicy));
  }

  #noteRefusal(announcement: Announcement, e: unknown): void {
    const { body } = announcement;
    const list = this.#refusedRequests;
    if (list.length >= MAX_REFUSED_REQUESTS) list.shift();
    list.push({
      sessionId: announcement.idHex,
      creator: bytesToHex(body.signers[body.creatorIndex] as Uint8Array),
      code: isCosignerError(e) ? e.code : 'INTERNAL',
      reason: clip(e instanceof Error ? e.message : String(e), 1024),
      at: this.#clock.now(),
    });
  }

  #deadlines(live: Live): { expiresAt: number; stuckSessionTimeoutMs: number } {
    return { expiresAt: live.deadline, stuckSessionTimeoutMs: this.options.stuckSessionTimeoutMs };
  }

  /** A signed message with this node's next sequence number (reserved now, stored by the commit that sends it). */
  #message(
    live: Live,
    attempt: number,
    body: MessageBody,
    now: number,
    secretKey?: Uint8Array,
  ): { frame: Uint8Array; sequence: number } {
    const sequence = nextSequence(live.localSequence);
    const frame = this.#sign({ sessionId: live.announcement.id, sender: live.localIndex, attempt, sequence, timestamp: now, body }, secretKey);
    live.localSequence = sequence;
    return { frame, sequence };
  }

  /**
   * Builds the verification tables of a request's co-signer keys (KeyVerifier), one key per scheduler
   * turn so that nothing waits behind them: they are ready long before the signers have decided, and
   * every message of theirs is then checked in about half the time.
   */
  #prepareKeys(signers: readonly Uint8Array[]): void {
    for (const key of signers) {
      if (!equalKeys(key, this.#localKey) && this.#toPrepare.size < PREPARED_KEYS) this.#toPrepare.add(bytesToHex(key.subarray(1)));
    }
    this.#schedulePrepare();
  }

  #schedulePrepare(): void {
    if (this.#prepareTimer !== undefined || this.#toPrepare.size === 0 || !this.#running) return;
    this.#prepareTimer = this.#scheduler.setTimeout(() => {
      this.#prepareTimer = undefined;
      const next = this.#toPrepare.values().next();
      if (next.done === true) return;
      this.#toPrepare.delete(next.value);
      this.#verifier.prepare(hexToBytes(next.value));
      this.#schedulePrepare();
    }, 0);
  }

  #sign(message: SessionMessage, secretKey?: Uint8Array): Uint8Array {
    const key = secretKey ?? this.#signer.secretKey();
    try {
      return signMessage(message, key, this.#random.bytes(32));
    } finally {
      if (secretKey === undefined) key.fill(0);
    }
  }

  /**
   * A request this node refused on reading it (a PSBT it cannot or will not sign) is declined to its
   * creator, with the reason, so that the creator learns why at once instead of waiting for the
   * session to expire. Sent once per request (the refusal is remembered, and a refused request
   * delivered again is dropped before its intake); to the creator only, for no longer than this
   * node's own session timeout, and at most REFUSALS_PER_CREATOR per window: so no request, however
   * many signers it lists and whatever expiry it announces, makes this node fill its delivery queues.
   */
  #declineRefused(announcement: Announcement, e: unknown, now: number): void {
    const { body } = announcement;
    const creator = body.signers[body.creatorIndex] as Uint8Array;
    if (!this.#refusals.allow(bytesToHex(creator), now)) return;
    const localIndex = body.signers.findIndex((key) => equalKeys(key, this.#localKey));
    const code = isCosignerError(e) ? e.code : 'INTERNAL';
    const reason = clip(`refused on reading the request (${code}): ${e instanceof Error ? e.message : String(e)}`, MAX_REASON_BYTES);
    const frame = this.#sign({ sessionId: announcement.id, sender: localIndex, attempt: 1, sequence: nextSequence(0), timestamp: now, body: { type: 'decline', reason } });
    const meta: OutboundMeta = { kind: 'session-message', sessionId: announcement.idHex, expiresAt: deadlineOf(body, this.options.sessionTimeoutMs) };
    this.#send(creator, frame, meta);
  }

  /**
   * Makes `next` the session's state: stored first when the record changes (or a message is about to
   * leave, since its sequence number must survive a restart), then reported, then the frames sent.
   * If the store fails nothing is sent or reported as done: the session ends ABORTED (STORAGE_FAILED)
   * in memory and the error is thrown.
   */
  async #commit(live: Live, next: SessionState, frames: readonly Uint8Array[] = [], force = false): Promise<void> {
    const previous = live.state;
    const stored = force || frames.length > 0 || this.#recordChanged(previous, next);
    if (stored) {
      try {
        await this.#store.put(
          live.announcement.idHex,
          toRecord({
            announcement: live.announcement,
            localKey: this.#localKey,
            signingKey: live.signingKey,
            state: next,
            localSequence: live.localSequence,
            peerSequences: live.replay.snapshot(),
            psbt: live.psbt?.toStored(),
          }),
        );
      } catch (e) {
        this.#counters.storageFailures += 1;
        this.#dropSecrets(live);
        if (!isTerminal(previous.phase)) {
          const now = this.#clock.now();
          live.state = end(previous, 'ABORTED', { code: 'STORAGE_FAILED', reason: 'could not store the session', blame: [], reportedBy: live.localIndex, verified: true }, now);
          this.#emit('session', this.#snapshot(live));
        }
        throw isCosignerError(e) ? e : new CosignerError('STORAGE_FAILED', 'could not store the session', {}, { cause: e });
      }
    }
    live.state = next;
    if (stored) this.#index.set(this.#entryOf(live));
    if (next.phase !== previous.phase || next.attempt !== previous.attempt) this.#armDeadline();
    if (force || next !== previous) this.#emit('session', this.#snapshot(live));
    for (const frame of frames) this.#broadcast(live, frame, 'session-message');
    // Last: frames the record says were sent must leave whatever happens to this node's PSBT copy.
    live.psbt?.progress(next);
  }

  #recordChanged(a: SessionState, b: SessionState): boolean {
    return (
      a.phase !== b.phase ||
      a.attempt !== b.attempt ||
      a.attemptFloor !== b.attemptFloor ||
      a.failure !== b.failure ||
      a.signatures !== b.signatures ||
      a.approved.some((approved, i) => approved !== b.approved[i])
    );
  }

  #broadcast(live: Live, frame: Uint8Array, kind: FrameKind): void {
    this.#sendToOthers(live.announcement.body.signers, live.localIndex, frame, { kind, sessionId: live.announcement.idHex, expiresAt: live.deadline });
  }

  #sendToOthers(signers: readonly Uint8Array[], localIndex: number, frame: Uint8Array, meta: OutboundMeta): void {
    signers.forEach((key, index) => {
      if (index !== localIndex) this.#send(key, frame, meta);
    });
  }

  #send(to: Uint8Array, frame: Uint8Array, meta: OutboundMeta): void {
    this.#transport.send(to, frame, meta).catch(() => {
      this.#counters.sendFailures += 1;
    });
  }

  /** Unused secret nonces are zeroed, not left in memory until collected. */
  #dropSecrets(live: Live): void {
    live.secrets?.nonces.forEach(discardSecretNonce);
    live.secrets = undefined;
    live.batch = undefined;
  }

  #enqueue<T>(live: Live, op: () => Promise<T>, inbound: boolean): Promise<T> {
    if (inbound && live.queued >= this.options.maxQueuedPerSession) {
      return Promise.reject(new CosignerError('RATE_LIMITED', 'too much queued on this session'));
    }
    live.queued += 1;
    const run = live.queue.then(op);
    live.queue = run.catch(() => undefined);
    return this.#track(run.finally(() => (live.queued -= 1)));
  }

  #enqueueIntake<T>(op: () => Promise<T>): Promise<T> {
    if (this.#intakeQueued >= this.options.maxQueuedPerSession) {
      return Promise.reject(new CosignerError('RATE_LIMITED', 'too many announcements queued'));
    }
    this.#intakeQueued += 1;
    const run = this.#intake.then(op);
    this.#intake = run.catch(() => undefined);
    return this.#track(run.finally(() => (this.#intakeQueued -= 1)));
  }

  #track<T>(promise: Promise<T>): Promise<T> {
    const settled = promise.then(
      () => undefined,
      () => undefined,
    );
    this.#inflight.add(settled);
    void settled.then(() => this.#inflight.delete(settled));
    return promise;
  }

  #act<T>(sessionId: string, op: (live: Live) => Promise<T>): Promise<T> {
    try {
      this.#assertRunning();
    } catch (e) {
      return Promise.reject(e);
    }
    const live = this.#sessions.get(sessionId);
    if (!live) return Promise.reject(new CosignerError('UNKNOWN_SESSION', 'no such active session', { sessionId }));
    return this.#enqueue(
      live,
      async () => {
        await this.#applyTimeouts(live);
        return op(live);
      },
      false,
    );
  }

  #assertRunning(): void {
    if (!this.#running) throw new CosignerError('NOT_RUNNING', 'the coordinator is not running');
  }

  #assertOpen(live: Live): void {
    const { phase, failure } = live.state;
    if (!isTerminal(phase)) return;
    const code: ErrorCode = phase === 'EXPIRED' ? 'EXPIRED' : phase === 'DECLINED' ? 'DECLINED' : phase === 'ABORTED' ? 'ABORTED' : 'WRONG_PHASE';
    throw new CosignerError(code, `the session is ${phase}`, { sessionId: live.announcement.idHex, cause: failure?.code });
  }

  #awaitsLocalDecision(live: Live): boolean {
    return !isTerminal(live.state.phase) && !live.state.approved[live.localIndex];
  }

  #autoApproves(snapshot: SessionSnapshot): boolean {
    try {
      return this.options.autoApprove?.(snapshot) === true;
    } catch {
      return false;
    }
  }

  /** Room for one more session: the oldest finished one leaves memory if needed (it stays stored). */
  #makeRoom(): void {
    if (this.#sessions.size < this.options.maxSessions) return;
    let oldest: [string, Live] | undefined;
    for (const entry of this.#sessions) {
      if (isTerminal(entry[1].state.phase) && (!oldest || entry[1].state.updatedAt < oldest[1].state.updatedAt)) oldest = entry;
    }
    if (!oldest) throw new CosignerError('LIMIT_REACHED', 'too many active sessions', { max: this.options.maxSessions });
    this.#sessions.delete(oldest[0]);
  }

  #buildBody(input: CreateSessionInput, now: number): AnnouncementBody {
    if (typeof input !== 'object' || input === null || !Array.isArray(input.signers)) {
      throw new CosignerError('INVALID_INPUT', 'signers are required');
    }
    const signers = input.signers.map((key, i) => parseHex(key, `signers[${i}]`));
    const creatorIndex = signers.findIndex((key) => equalKeys(key, this.#localKey));
    if (creatorIndex < 0) throw new CosignerError('NOT_A_SIGNER', 'the local signer must be one of the signers');
    if (input.tweak !== 'taproot') {
      throw new CosignerError('INVALID_INPUT', "tweak must be taproot: messages are BIP322 signatures for the group's address, PSBT inputs key-path spends", {
        field: 'tweak',
      });
    }
    const ttl = input.expiresInMs ?? this.options.defaultSessionTtlMs;
    if (!Number.isSafeInteger(ttl) || ttl <= 0 || ttl > this.options.sessionTimeoutMs) {
      throw new CosignerError('INVALID_INPUT', 'expiry must be within the session timeout', { max: this.options.sessionTimeoutMs });
    }
    const item = (m: MessageInput, i: number) => ({ message: parseHex(m.message, `message ${i}`), label: m.label ?? '' });
    let payload: Payload;
    if (input.payload?.kind === 'message') {
      payload = { kind: 'message', ...item(input.payload, 0) };
    } else if (input.payload?.kind === 'batch' && Array.isArray(input.payload.items)) {
      payload = { kind: 'batch', items: input.payload.items.map(item) };
    } else if (input.payload?.kind === 'psbt') {
      payload = {
        kind: 'psbt',
        network: input.payload.network,
        allowNonDefaultSighash: input.payload.allowNonDefaultSighash === true,
        psbt: psbtBytes(input.payload.psbt),
      };
    } else {
      throw new CosignerError('INVALID_INPUT', 'payload must be a message, a batch or a PSBT');
    }
    return {
      signers,
      creatorIndex,
      tweak: input.tweak,
      createdAt: now,
      expiresAt: now + ttl,
      salt: this.#random.bytes(SALT_BYTES),
      display: input.description ?? '',
      payload,
    };
  }

  /**
   * Restores the sessions that may still act (open, or ended within the session timeout) from their
   * records, and the index of every record. An ended session past the session timeout is on disk for
   * history only and its index line says all history needs: its record is read when it is opened
   * (get), not at every start. A record the index lacks (an index missing, unreadable or saved before
   * a crash) is read and indexed; an index line without a record is dropped.
   */
  async #load(): Promise<void> {
    const now = this.#clock.now();
    const keys = (await this.#store.keys()).filter(isSessionKey);
    const { index, intact } = await SessionIndex.load(this.#store);
    if (!intact) this.#counters.corruptRecords += 1;
    index.retainOnly(new Set(keys));
    this.#index = index;
    const restored: Live[] = [];
    for (const key of keys) {
      const known = index.get(key);
      if (known && isTerminal(known.phase) && now - known.createdAt >= this.options.sessionTimeoutMs) continue;
      let live: Live;
      try {
        live = this.#restoreRecord(await this.#store.get(key), true);
      } catch {
        this.#counters.corruptRecords += 1;
        index.delete(key);
        continue;
      }
      index.set(this.#entryOf(live));
      if (!equalKeys(this.#localKeyOf(live), this.#localKey)) continue;
      const recent = now - live.announcement.body.createdAt < this.options.sessionTimeoutMs;
      if (!isTerminal(live.state.phase) || recent) restored.push(live);
    }
    // Sessions still open first, then the most recent: what fits in memory is what matters most.
    restored.sort((a, b) => Number(isTerminal(a.state.phase)) - Number(isTerminal(b.state.phase)) || b.state.updatedAt - a.state.updatedAt);
    for (const live of restored.slice(0, this.options.maxSessions)) this.#sessions.set(live.announcement.idHex, live);
  }

  /**
   * A stored record as a session, checked: schema, announcement signature and consistency
   * (fromRecord), stored signatures against the stored messages and keys. With `reopen`, an open
   * session of the local signer will sign again, so its key (and a PSBT's messages) are recomputed
   * now, never taken from the file on trust.
   */
  #restoreRecord(json: unknown, reopen: boolean): Live {
    const record = fromRecord(json);
    const open = reopen && equalKeys(record.localKey, this.#localKey) && !isTerminal(record.state.phase);
    const live = this.#newLive(record.announcement, record.localIndex, record.state, this.#restoredPsbt(record, open), record);
    if (open && !equalKeys(this.#keysOf(live).signingKey, live.signingKey)) {
      throw new Error('stored signing key does not match the signers');
    }
    const { signatures } = record.state;
    if (!signatures.every((sig, i) => verifySignature(sig, live.messages[i] as Uint8Array, live.verifyKeys[i] as Uint8Array))) {
      throw new Error('stored signature does not verify');
    }
    return live;
  }

  /**
   * Retention (retention.ts) and the index's save. The record, not its index line, decides: only a
   * record read back as ended is deleted, one file at a time (each deletion atomic). A failure is
   * counted (sweepFailures) and the rest is tried again at the next sweep.
   */
  async #retain(now: number): Promise<number> {
    if (this.#retaining) return 0;
    this.#retaining = true;
    let deleted = 0;
    let failed = false;
    try {
      const policy = {
        maxAgeMs: this.options.recordRetentionMs,
        maxRecords: this.options.maxStoredRecords,
        protectedMs: Math.max(REPLAY_HORIZON_MS, this.options.sessionTimeoutMs),
      };
      for (const id of recordsToDelete(this.#index.values(), now, policy)) {
        if (this.#sessions.has(id)) continue;
        let json: unknown;
        try {
          json = await this.#store.get(id);
        } catch {
          failed = true;
          continue;
        }
        let ended = json === undefined;
        try {
          ended ||= isTerminal(fromRecord(json).state.phase);
        } catch {
          // Unreadable: counted and left on disk for whoever looks into it, but no longer retried.
          this.#counters.corruptRecords += 1;
          this.#index.delete(id);
          continue;
        }
        if (!ended) continue;
        try {
          if (json !== undefined) await this.#store.delete(id);
          this.#index.delete(id);
          deleted += 1;
        } catch {
          failed = true;
        }
      }
      await this.#index.save(this.#store).catch(() => (failed = true));
    } finally {
      this.#retaining = false;
    }
    if (failed) this.#counters.sweepFailures += 1;
    return deleted;
  }

  /**
   * The PSBT side of a stored session: a session that may still sign imports, reviews and plans its
   * PSBT again, which must give what was stored (what its user saw); history is shown as stored.
   */
  #restoredPsbt(record: Restored, reopen: boolean): PsbtSession | undefined {
    const { body } = record.announcement;
    if (body.payload.kind !== 'psbt') return undefined;
    const stored = record.psbt as StoredPsbt;
    if (!reopen) return PsbtSession.stored(body, stored);
    const psbt = this.#intakePsbt(body) as PsbtSession;
    if (!psbt.matches(stored)) throw new Error('the stored PSBT review is not what this node computes');
    return psbt;
  }

  #localKeyOf(live: Live): Uint8Array {
    return live.announcement.body.signers[live.localIndex] as Uint8Array;
  }

  #entryOf(live: Live): IndexEntry {
    return { ...summaryOf(this.#snapshot(live)), localKey: bytesToHex(this.#localKeyOf(live)) };
  }

  #snapshot(live: Live): SessionSnapshot {
    return snapshotOf({
      announcement: live.announcement,
      state: live.state,
      localIndex: live.localIndex,
      signingKey: live.signingKey,
      items: live.items,
      psbt: live.psbt?.view ?? null,
      bip322: live.psbt ? null : this.#bip322Of(live.signingKey, live.messages),
      maxAttempts: this.options.maxAttempts,
    });
  }

  /** A message session's address is named for this node's network (mainnet where it has none): the
   *  BIP322 digests, and so the signatures, depend on the output key alone. */
  #bip322Of(outputKey: Uint8Array, digests: readonly Uint8Array[]): { address: string; digests: readonly Uint8Array[] } {
    return { address: taprootAddress(outputKey, this.options.bitcoinNetwork ?? 'mainnet'), digests };
  }

  #emit<E extends keyof CoordinatorEvents>(event: E, payload: CoordinatorEvents[E]): void {
    for (const listener of this.#listeners[event] as Set<Listener<E>>) {
      try {
        listener(payload);
      } catch {
        this.#counters.listenerErrors += 1;
      }
    }
  }

  #reject(code: string): void {
    this.#rejected.set(code, (this.#rejected.get(code) ?? 0) + 1);
  }

  #rejectError(e: unknown): void {
    this.#reject(isCosignerError(e) ? e.code : 'INTERNAL');
  }
}
