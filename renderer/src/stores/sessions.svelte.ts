import { SvelteMap } from 'svelte/reactivity';
import type { CosignerBridge, Requests, SessionSnapshot } from '../../../preload/contract.ts';
import type { ArgsOf } from '../../../preload/contract-kit.ts';
import { isTerminal } from '../lib/phases.ts';

/** The history screen shows this many at most; the oldest finished sessions are forgotten first. */
export const MAX_SESSIONS = 1000;

/**
 * Every session the back end reports, keyed by id. Each snapshot carries a version; an update whose
 * version is not newer than the one held is stale (an event overtaken by a later answer, or a list
 * loaded before an event) and is dropped, so the screen never goes backwards.
 */
export class SessionsStore {
  readonly #bridge: CosignerBridge;
  readonly #byId = new SvelteMap<string, SessionSnapshot>();
  loaded = $state(false);
  error: unknown = $state.raw(null);

  /** Newest first. */
  readonly all: SessionSnapshot[] = $derived([...this.#byId.values()].sort(newestFirst));
  /** Requests waiting for this user's decision (as the back end says), oldest (closest to expiry) first. */
  readonly pending: SessionSnapshot[] = $derived(this.all.filter((s) => s.awaitingLocalApproval).reverse());
  /** Exchanges this computer cannot continue since it restarted: each waits for the user to resume it. */
  readonly interrupted: SessionSnapshot[] = $derived(this.all.filter((s) => s.interrupted && s.resumable).reverse());

  constructor(bridge: CosignerBridge) {
    this.#bridge = bridge;
  }

  start(): () => void {
    const off = this.#bridge.subscribe('session', (snapshot) => this.apply(snapshot));
    void this.reload();
    return off;
  }

  async reload(): Promise<void> {
    try {
      const list = await this.#bridge.call('sessions.list', {});
      for (const snapshot of list) this.apply(snapshot);
      this.error = null;
      this.loaded = true;
    } catch (error) {
      this.error = error;
    }
  }

  get(sessionId: string): SessionSnapshot | undefined {
    return this.#byId.get(sessionId);
  }

  /** Loads one session the list may not have (a link followed before the list arrived). */
  async fetch(sessionId: string): Promise<SessionSnapshot | undefined> {
    this.apply(await this.#bridge.call('sessions.get', { sessionId }));
    return this.get(sessionId);
  }

  /** Keeps `snapshot` if it is newer than what is held; says whether it was kept. */
  apply(snapshot: SessionSnapshot): boolean {
    const held = this.#byId.get(snapshot.sessionId);
    if (held !== undefined && held.version >= snapshot.version) return false;
    this.#byId.set(snapshot.sessionId, snapshot);
    if (held === undefined && this.#byId.size > MAX_SESSIONS) this.#evictOldestFinished();
    return true;
  }

  async create(input: ArgsOf<Requests, 'sessions.create'>): Promise<SessionSnapshot> {
    return this.#keep(await this.#bridge.call('sessions.create', input));
  }

  /** Asks the group to co-sign a PSBT (refused with PSBT_REFUSED unless every input is the group's). */
  async createPsbt(input: ArgsOf<Requests, 'sessions.createPsbt'>): Promise<SessionSnapshot> {
    return this.#keep(await this.#bridge.call('sessions.createPsbt', input));
  }

  /** This node's copy of a PSBT session's PSBT, base64: BIP373 fields so far, finalized once complete. */
  async psbtCopy(sessionId: string): Promise<string> {
    return (await this.#bridge.call('sessions.psbt', { sessionId })).psbtBase64;
  }

  async approve(sessionId: string): Promise<SessionSnapshot> {
    return this.#keep(await this.#bridge.call('sessions.approve', { sessionId }));
  }

  async decline(sessionId: string, reason: string): Promise<SessionSnapshot> {
    return this.#keep(await this.#bridge.call('sessions.decline', { sessionId, reason }));
  }

  /** Ends the session for every signer; `reason` is shown to them. */
  async abort(sessionId: string, reason: string): Promise<SessionSnapshot> {
    return this.#keep(await this.#bridge.call('sessions.abort', { sessionId, reason }));
  }

  async resume(sessionId: string): Promise<SessionSnapshot> {
    return this.#keep(await this.#bridge.call('sessions.resume', { sessionId }));
  }

  /** An action's answer is applied like any update; what is returned is what the store now holds. */
  #keep(snapshot: SessionSnapshot): SessionSnapshot {
    this.apply(snapshot);
    return this.#byId.get(snapshot.sessionId) ?? snapshot;
  }

  #evictOldestFinished(): void {
    let oldest: SessionSnapshot | undefined;
    for (const s of this.#byId.values()) {
      if (isTerminal(s.phase) && (oldest === undefined || s.createdAt < oldest.createdAt)) oldest = s;
    }
    if (oldest !== undefined) this.#byId.delete(oldest.sessionId);
  }
}

function newestFirst(a: SessionSnapshot, b: SessionSnapshot): number {
  return b.createdAt - a.createdAt || (a.sessionId < b.sessionId ? -1 : 1);
}
