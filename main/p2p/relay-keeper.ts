/**
 * Keeps a relay reservation on each relay the node should be reachable through: the relays in the
 * settings (`relays`, e.g. a group's own `cosigner relay`) and the relays named in co-signers'
 * signer cards (a card's `/p2p-circuit` address names the relay its node listens through, so a
 * group that shares one relay needs to type it in only once). With a reservation the node listens
 * on `<relay>/p2p/<relay id>/p2p-circuit`, which goes into its signer cards, and anyone can dial it
 * through that relay.
 *
 * A relay that cannot be reached or refuses us is tried again later, backing off from `intervalMs`
 * to 30 minutes; one that drops us (restart, connection lost) is tried again at the next tick.
 */
import { multiaddr } from '@multiformats/multiaddr';
import type { Multiaddr } from '@multiformats/multiaddr';
import { CosignerError } from '../errors.ts';
import type { Clock, Scheduler, TimerHandle } from '../session/ports.ts';
import type { CosignerLibp2p } from './node.ts';

export type RelaySource = 'configured' | 'co-signer' | 'public';

export interface RelayState {
  /** The relay's own address, with /p2p/<relay id>. */
  address: string;
  peerId: string;
  source: RelaySource;
  /** We hold a reservation: others can reach us through this relay now. */
  reserved: boolean;
  /** The last failed attempt, in words (null after a success). */
  lastError: string | null;
}

export interface RelayKeeperDeps {
  libp2p: CosignerLibp2p;
  clock: Clock;
  scheduler: Scheduler;
  configured: readonly string[];
  intervalMs: number;
  dialTimeoutMs: number;
  /** Relays learned from co-signers' cards, at most (configured ones are always kept). */
  maxLearned?: number;
}

interface Entry {
  readonly peerId: string;
  readonly source: RelaySource;
  failures: number;
  nextAttemptAt: number;
  lastError: string | null;
}

const MAX_BACKOFF_MS = 30 * 60_000;
/** Failed attempts in a row after which a public relay may be replaced. */
const PUBLIC_RELAY_MAX_FAILURES = 3;
const CIRCUIT = '/p2p-circuit';

/** The relay part of a `/p2p-circuit` address (with its /p2p/<relay id>), or undefined. */
export function relayOfCircuitAddress(address: string): string | undefined {
  const at = address.indexOf(CIRCUIT);
  if (at <= 0) return undefined;
  const relay = address.slice(0, at);
  try {
    return multiaddr(relay)
      .getComponents()
      .some((c) => c.name === 'p2p')
      ? relay
      : undefined;
  } catch {
    return undefined;
  }
}

function peerIdOfAddress(address: string): string | undefined {
  try {
    return multiaddr(address)
      .getComponents()
      .findLast((c) => c.name === 'p2p')?.value;
  } catch {
    return undefined;
  }
}

/**
 * libp2p 3 takes listen addresses only at start and has no public call to add one later; a relay
 * listen address given at start would fail the start whenever the relay is down. Its transport
 * manager (a component it exposes at run time) is what the start itself uses.
 */
function transportManagerOf(libp2p: CosignerLibp2p): { listen(addrs: Multiaddr[]): Promise<void> } {
  return (libp2p as unknown as { components: { transportManager: { listen(addrs: Multiaddr[]): Promise<void> } } }).components
    .transportManager;
}

function withTimeout<T>(scheduler: Scheduler, work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: TimerHandle | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = scheduler.setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([work, timeout]).finally(() => {
    if (timer !== undefined) scheduler.clear(timer);
  });
}

export class RelayKeeper {
  readonly #deps: RelayKeeperDeps;
  /** By relay address. */
  readonly #relays = new Map<string, Entry>();
  readonly #maxLearned: number;
  #timer: TimerHandle | undefined;
  #ticking = false;

  constructor(deps: RelayKeeperDeps) {
    this.#deps = deps;
    this.#maxLearned = deps.maxLearned ?? 4;
    for (const address of deps.configured) {
      if (!this.#add(address, 'configured'))
        throw new CosignerError('INVALID_INPUT', 'a relay address must be a multiaddr ending in /p2p/<relay peer id>', { address });
    }
  }

  start(): void {
    this.#timer ??= this.#deps.scheduler.setInterval(() => this.tick(), this.#deps.intervalMs);
    this.tick();
  }

  stop(): void {
    if (this.#timer !== undefined) this.#deps.scheduler.clear(this.#timer);
    this.#timer = undefined;
  }

  /** A co-signer's card: its circuit addresses name relays we may share. */
  learnFromCard(addresses: readonly string[]): void {
    let added = false;
    for (const address of addresses) {
      const relay = relayOfCircuitAddress(address);
      if (relay === undefined || this.#relays.has(relay)) continue;
      if (peerIdOfAddress(relay) === this.#deps.libp2p.peerId.toString()) continue;
      const learned = [...this.#relays.values()].filter((e) => e.source === 'co-signer').length;
      if (learned >= this.#maxLearned) break;
      added = this.#add(relay, 'co-signer') || added;
    }
    if (added && this.#timer !== undefined) this.tick();
  }

  /**
   * A public relay met on the public network (rendezvous.ts); kept while fewer than `max` public
   * relays are known, and skipped when the same relay is already there under another address.
   */
  offerPublic(address: string, max: number): void {
    const peerId = peerIdOfAddress(address);
    if (peerId === undefined || peerId === this.#deps.libp2p.peerId.toString()) return;
    const entries = [...this.#relays.values()];
    if (entries.some((e) => e.peerId === peerId)) return;
    if (entries.filter((e) => e.source === 'public').length >= max) {
      // Public relays come and go: one that keeps failing gives its place to the next one we meet.
      const reserved = this.#reservedRelayIds();
      const dead = [...this.#relays].find(
        ([, e]) => e.source === 'public' && e.failures >= PUBLIC_RELAY_MAX_FAILURES && !reserved.has(e.peerId),
      );
      if (dead === undefined) return;
      this.#relays.delete(dead[0]);
    }
    if (this.#add(address, 'public') && this.#timer !== undefined) this.tick();
  }

  relays(): RelayState[] {
    const reserved = this.#reservedRelayIds();
    return [...this.#relays.entries()].map(([address, e]) => ({
      address,
      peerId: e.peerId,
      source: e.source,
      reserved: reserved.has(e.peerId),
      lastError: e.lastError,
    }));
  }

  /**
   * Reserves on every relay we hold no reservation on and whose backoff has passed, one relay at a
   * time: two reservations started together left the second one made but never listened on.
   */
  tick(): void {
    if (this.#ticking) return;
    this.#ticking = true;
    void this.#reserveDue().finally(() => {
      this.#ticking = false;
    });
  }

  async #reserveDue(): Promise<void> {
    for (const [address, entry] of [...this.#relays]) {
      if (this.#timer === undefined) return;
      if (this.#reservedRelayIds().has(entry.peerId) || this.#deps.clock.now() < entry.nextAttemptAt) continue;
      await this.#reserve(address, entry);
    }
  }

  async #reserve(address: string, entry: Entry): Promise<void> {
    const { libp2p, dialTimeoutMs, intervalMs, clock } = this.#deps;
    try {
      await libp2p.dial(multiaddr(address), { signal: AbortSignal.timeout(dialTimeoutMs) });
      await withTimeout(
        this.#deps.scheduler,
        transportManagerOf(libp2p).listen([multiaddr(`${address}${CIRCUIT}`)]),
        dialTimeoutMs,
        'the relay did not grant a reservation in time',
      );
      if (!this.#reservedRelayIds().has(entry.peerId)) throw new Error('the relay granted a reservation but no relay address appeared');
      entry.failures = 0;
      entry.lastError = null;
      entry.nextAttemptAt = 0;
    } catch (err) {
      entry.failures += 1;
      entry.lastError = err instanceof Error ? err.message.split('\n')[0]!.slice(0, 200) : String(err);
      entry.nextAttemptAt = clock.now() + Math.min(intervalMs * 2 ** (entry.failures - 1), MAX_BACKOFF_MS);
    }
  }

  #add(address: string, source: RelaySource): boolean {
    const peerId = peerIdOfAddress(address);
    if (peerId === undefined || this.#relays.has(address)) return false;
    this.#relays.set(address, { peerId, source, failures: 0, nextAttemptAt: 0, lastError: null });
    return true;
  }

  #reservedRelayIds(): Set<string> {
    const ids = new Set<string>();
    for (const a of this.#deps.libp2p.getMultiaddrs()) {
      const relay = relayOfCircuitAddress(a.toString());
      const id = relay === undefined ? undefined : peerIdOfAddress(relay);
      if (id !== undefined) ids.add(id);
    }
    return ids;
  }
}
