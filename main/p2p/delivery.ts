/**
 * Reliable delivery to a signer: one FIFO queue per recipient key (so a signer sees a session's
 * messages in the order they were sent), each frame retried with exponential backoff and jitter
 * until it is accepted or its `expiresAt` passes (at most `maxAgeMs` after it was queued), then
 * rejected with PEER_UNREACHABLE. Pure
 * scheduling logic: the actual network attempt, time, timers and randomness are injected.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { CosignerError } from '../errors.ts';
import type { Clock, FrameKind, Random, Scheduler, TimerHandle } from '../session/ports.ts';

export interface RetryPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
  factor: number;
  /** One attempt (lookup, dial, write, wait for the ack) is abandoned after this long. */
  attemptTimeoutMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { initialDelayMs: 250, maxDelayMs: 15_000, factor: 2, attemptTimeoutMs: 10_000 };

/** The longest a frame waits for its recipient, whatever expiry its sender gave: the longest session
 *  timeout a node can be set to (7 days, preload/contract.ts). So a frame to a recipient that never
 *  answers leaves the table of recipients, which is bounded, even if its expiry was 2^53−1 ms. */
export const DEFAULT_MAX_AGE_MS = 7 * 24 * 3_600_000;

/** `attempt` counts from 1 for each frame. */
export type Attempt = (toSigner: Uint8Array, frame: Uint8Array, kind: FrameKind, signal: AbortSignal, attempt: number) => Promise<void>;

export interface DeliveryDeps {
  clock: Clock;
  scheduler: Scheduler;
  random: Random;
  attempt: Attempt;
  policy?: Partial<RetryPolicy>;
  maxQueuePerSigner?: number;
  maxSigners?: number;
  maxAgeMs?: number;
}

interface Item {
  frame: Uint8Array;
  kind: FrameKind;
  sessionId: string;
  expiresAt: number;
  attempts: number;
  lastError: string;
  resolve(): void;
  reject(err: Error): void;
}

interface Queue {
  signer: Uint8Array;
  items: Item[];
  busy: boolean;
  timer: TimerHandle | undefined;
  controller: AbortController | undefined;
}

export class Delivery {
  readonly #deps: DeliveryDeps;
  readonly #policy: RetryPolicy;
  readonly #maxQueue: number;
  readonly #maxSigners: number;
  readonly #maxAgeMs: number;
  readonly #queues = new Map<string, Queue>();
  #failedAttempts = 0;
  #stopped = false;

  constructor(deps: DeliveryDeps) {
    this.#deps = deps;
    this.#policy = { ...DEFAULT_RETRY_POLICY, ...deps.policy };
    this.#maxQueue = deps.maxQueuePerSigner ?? 64;
    this.#maxSigners = deps.maxSigners ?? 256;
    this.#maxAgeMs = deps.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  }

  send(toSigner: Uint8Array, frame: Uint8Array, meta: { kind: FrameKind; sessionId: string; expiresAt: number }): Promise<void> {
    if (this.#stopped) return Promise.reject(new CosignerError('NOT_RUNNING', 'the network is stopped'));
    const hex = bytesToHex(toSigner);
    let queue = this.#queues.get(hex);
    if (queue === undefined) {
      if (this.#queues.size >= this.#maxSigners) {
        return Promise.reject(
          new CosignerError('LIMIT_REACHED', 'too many recipients with pending deliveries', { limit: this.#maxSigners }),
        );
      }
      queue = { signer: Uint8Array.from(toSigner), items: [], busy: false, timer: undefined, controller: undefined };
      this.#queues.set(hex, queue);
    }
    if (queue.items.length >= this.#maxQueue) {
      return Promise.reject(
        new CosignerError('LIMIT_REACHED', 'too many pending deliveries to this signer', { signer: hex, limit: this.#maxQueue }),
      );
    }
    const target = queue;
    const expiresAt = Math.min(meta.expiresAt, this.#deps.clock.now() + this.#maxAgeMs);
    return new Promise<void>((resolve, reject) => {
      target.items.push({
        frame,
        kind: meta.kind,
        sessionId: meta.sessionId,
        expiresAt,
        attempts: 0,
        lastError: 'not attempted',
        resolve,
        reject,
      });
      this.#pump(hex, target);
    });
  }

  /** Retries a waiting recipient now, e.g. because its card or a connection to it just appeared. */
  kick(toSigner: Uint8Array): void {
    const hex = bytesToHex(toSigner);
    const queue = this.#queues.get(hex);
    if (queue === undefined || queue.busy || queue.timer === undefined) return;
    this.#deps.scheduler.clear(queue.timer);
    queue.timer = undefined;
    this.#pump(hex, queue);
  }

  /** Signers with frames waiting. */
  pendingSigners(): Uint8Array[] {
    return [...this.#queues.values()].map((q) => q.signer);
  }

  pendingCount(): number {
    let n = 0;
    for (const q of this.#queues.values()) n += q.items.length;
    return n;
  }

  /** Attempts that failed (each is retried until its frame expires), since this was made. */
  failedAttempts(): number {
    return this.#failedAttempts;
  }

  stop(): void {
    this.#stopped = true;
    for (const queue of this.#queues.values()) {
      if (queue.timer !== undefined) this.#deps.scheduler.clear(queue.timer);
      queue.controller?.abort(new Error('stopped'));
      for (const item of queue.items.splice(0)) item.reject(new CosignerError('NOT_RUNNING', 'the network stopped before delivery'));
    }
    this.#queues.clear();
  }

  #pump(hex: string, queue: Queue): void {
    if (queue.busy || queue.timer !== undefined || this.#stopped) return;
    const item = queue.items[0];
    if (item === undefined) {
      this.#queues.delete(hex);
      return;
    }
    if (this.#deps.clock.now() >= item.expiresAt) {
      queue.items.shift();
      item.reject(
        new CosignerError(
          'PEER_UNREACHABLE',
          `signer ${hex.slice(0, 16)}… unreachable until the session expired (${item.attempts} attempts: ${item.lastError})`,
          {
            signer: hex,
            sessionId: item.sessionId,
            attempts: item.attempts,
            lastError: item.lastError,
          },
        ),
      );
      this.#pump(hex, queue);
      return;
    }
    queue.busy = true;
    item.attempts += 1;
    const controller = new AbortController();
    queue.controller = controller;
    const timeout = this.#deps.scheduler.setTimeout(() => controller.abort(new Error('attempt timed out')), this.#policy.attemptTimeoutMs);
    this.#deps
      .attempt(queue.signer, item.frame, item.kind, controller.signal, item.attempts)
      .then(
        () => {
          queue.items.shift();
          item.resolve();
        },
        (err: unknown) => {
          this.#failedAttempts += 1;
          item.lastError = controller.signal.aborted ? 'attempt timed out' : err instanceof Error ? err.message : String(err);
          if (this.#stopped) return;
          const delay = this.#backoff(item.attempts);
          const wait = Math.max(0, Math.min(delay, item.expiresAt - this.#deps.clock.now()));
          queue.timer = this.#deps.scheduler.setTimeout(() => {
            queue.timer = undefined;
            this.#pump(hex, queue);
          }, wait);
        },
      )
      .finally(() => {
        this.#deps.scheduler.clear(timeout);
        queue.busy = false;
        queue.controller = undefined;
        this.#pump(hex, queue);
      });
  }

  /** Exponential backoff with "equal jitter": half the delay fixed, half random, so retries spread out. */
  #backoff(attempts: number): number {
    const base = Math.min(this.#policy.maxDelayMs, this.#policy.initialDelayMs * this.#policy.factor ** (attempts - 1));
    const r = this.#deps.random.bytes(4);
    const unit = (((r[0] as number) << 24) | ((r[1] as number) << 16) | ((r[2] as number) << 8) | (r[3] as number)) >>> 0;
    return base / 2 + (base / 2) * (unit / 2 ** 32);
  }
}
