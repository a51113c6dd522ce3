/**
 * CosignerNetwork: the p2p layer as the rest of the back end sees it. It owns the libp2p node and
 * wires the parts together: signer cards (made from the local signer keys, exchanged on connect,
 * published in the DHT), the directory, the peer guard, mDNS LAN discovery, bootstrap peers, and
 * the SessionTransport the coordinator uses (`.transport`). That transport is one stable object for
 * the network's whole life: its subscribers survive a stop/start, and while the network is stopped
 * sends reject with NOT_RUNNING.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { peerIdFromString } from '@libp2p/peer-id';
import type { PeerId, PeerInfo } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import { CosignerError, isCosignerError } from '../errors.ts';
import { FailureCounts } from '../failure-counts.ts';
import type { Clock, InboundHandler, OutboundMeta, Random, Scheduler, SessionTransport, TimerHandle } from '../session/ports.ts';
import { BoundedMap } from './bounded-map.ts';
import { cardAddresses } from './card-addresses.ts';
import { CardExchange } from './card-exchange.ts';
import { dhtPut, dhtGet } from './dht-client.ts';
import { cardKey, createDhtRecordRules, rememberingInspector } from './dht-records.ts';
import type { AnnouncementInspector, DhtRecordRules } from './dht-records.ts';
import type { DhtStoreLimits } from './dht-store.ts';
import type { RetryPolicy } from './delivery.ts';
import { Directory, MAX_PINNED_SIGNERS } from './directory.ts';
import type { CardListener } from './directory.ts';
import { isValidSignerKey } from './signer-card.ts';
import { peerIdOf } from './identity.ts';
import type { PeerIdentity } from './identity.ts';
import { InboundPolicy } from './inbound-policy.ts';
import { handOver } from './inbound-verdict.ts';
import { createCosignerNode, dialBootstrapPeers } from './node.ts';
import type { CosignerLibp2p, CosignerNode } from './node.ts';
import { PeerGuard } from './peer-guard.ts';
import { PeerPaths } from './peer-paths.ts';
import { RelayKeeper } from './relay-keeper.ts';
import { Rendezvous } from './rendezvous.ts';
import type { RendezvousTimings } from './rendezvous.ts';
import type { PeerGuardConfig } from './peer-guard.ts';
import { createSignerCard } from './signer-card.ts';
import type { SignerCard, SignerKey } from './signer-card.ts';
import { collectNodeStatus, summarizeCard } from './status.ts';
import type { CosignerReach, LanPeer, NodeStatus } from './status.ts';
import { CosignerTransport, DEFAULT_TRANSPORT_TIMEOUTS } from './transport.ts';
import type { TransportTimeouts } from './transport.ts';

export interface NetworkTimeouts extends TransportTimeouts {
  /** How often our cards are re-put into the DHT (records expire and the closest peers change). */
  cardRepublishIntervalMs: number;
  /** How often bootstrap peers are dialled again while we have no connection at all. */
  bootstrapRetryMs: number;
}

export const DEFAULT_NETWORK_TIMEOUTS: NetworkTimeouts = {
  ...DEFAULT_TRANSPORT_TIMEOUTS,
  cardRepublishIntervalMs: 30 * 60_000,
  bootstrapRetryMs: 30_000,
};

export interface NetworkConfig {
  identity: PeerIdentity;
  /** The local signer keys this node speaks for (one card each). */
  signers: readonly SignerKey[];
  displayName: string;
  /** The session codec's announcement check (main/session/announcement.ts `inspectAnnouncement`). */
  inspectAnnouncement: AnnouncementInspector;
  clock: Clock;
  scheduler: Scheduler;
  random: Random;
  listen?: readonly string[];
  announce?: readonly string[];
  /** Multiaddrs with /p2p/<peer id> of nodes to join the DHT through. */
  bootstrap?: readonly string[];
  mdns?: { enabled: boolean; serviceTag?: string; intervalMs?: number };
  dht?: { mode?: 'server' | 'client'; addresses?: 'all' | 'public-only' };
  /** Co-signer keys whose DHT announcements to us we look for (their cards are pinned too). */
  cosigners?: readonly Uint8Array[];
  /** Further signer keys whose cards the directory never evicts for strangers' (the user's contacts). */
  pinned?: readonly Uint8Array[];
  guard?: Partial<PeerGuardConfig>;
  timeouts?: Partial<NetworkTimeouts>;
  retry?: Partial<RetryPolicy>;
  storeLimits?: DhtStoreLimits;
  /** Relays (multiaddrs with /p2p/<id>) to hold a reservation on, so that we can be reached behind a NAT. */
  relays?: readonly string[];
  /** Ask the home router for a port mapping (UPnP IGD / NAT-PMP); default true. */
  upnp?: boolean;
  /**
   * Meet co-signers on the public libp2p network (rendezvous.ts): the IPFS Amino DHT joined through
   * `bootstrap`, and its public relays. Off when absent.
   */
  rendezvous?: { bootstrap: readonly string[]; addresses?: 'all' | 'public-only'; timings?: Partial<RendezvousTimings> };
}

interface Running {
  node: CosignerNode;
  libp2p: CosignerLibp2p;
  rules: DhtRecordRules;
  directory: Directory;
  cards: CardExchange;
  transport: CosignerTransport;
  keeper: RelayKeeper;
  paths: PeerPaths;
  rendezvous: Rendezvous | undefined;
  /** A card re-issue waiting for our addresses to settle. */
  cardUpdate?: TimerHandle;
  timers: TimerHandle[];
  detach: (() => void)[];
}

const MAX_LAN_PEERS = 256;
const MAX_WATCHED_COSIGNERS = 1024;
/** Addresses change in bursts (a reservation adds several): one card for the burst. */
const CARD_UPDATE_SETTLE_MS = 500;

export class CosignerNetwork {
  readonly #config: NetworkConfig;
  readonly #timeouts: NetworkTimeouts;
  readonly #guard: PeerGuard;
  readonly #listeners = new Set<CardListener>();
  readonly #lan = new BoundedMap<string, { addresses: string[] }>(MAX_LAN_PEERS);
  readonly #failures = new FailureCounts();
  readonly #handlers = new Set<InboundHandler>();
  readonly #watched = new BoundedMap<string, Uint8Array>(MAX_WATCHED_COSIGNERS);
  /** Signer keys pinned in the directory (co-signers and contacts); the directory bounds them. */
  readonly #pinned = new Map<string, Uint8Array>();
  readonly #peerId: string;
  readonly transport: SessionTransport;
  #detachFanout: (() => void) | undefined;
  #ownCards: SignerCard[] = [];
  #displayName: string;
  #running: Running | undefined;

  constructor(config: NetworkConfig) {
    if (config.signers.length === 0) throw new CosignerError('INVALID_INPUT', 'the network needs at least one local signer key');
    this.#config = config;
    this.#timeouts = { ...DEFAULT_NETWORK_TIMEOUTS, ...config.timeouts };
    this.#guard = new PeerGuard(config.clock, config.guard);
    this.#displayName = config.displayName;
    this.#peerId = peerIdOf(config.identity);
    this.watchCosigners(config.cosigners ?? []);
    this.pinSigners(config.pinned ?? []);
    this.transport = this.#stableTransport();
  }

  get running(): boolean {
    return this.#running !== undefined;
  }

  /** The node's peer id (known before start: it comes from the persistent identity). */
  get peerId(): string {
    return this.#peerId;
  }

  /** The libp2p node, for diagnostics and tests. */
  get libp2p(): CosignerLibp2p {
    return this.#need().libp2p;
  }

  async start(): Promise<void> {
    if (this.#running !== undefined) return;
    const config = this.#config;
    const guard = this.#guard;
    const banned = (peerId: PeerId): boolean => guard.isBanned(peerId.toString());
    const inspectAnnouncement = rememberingInspector(config.inspectAnnouncement);
    const rules = createDhtRecordRules({ clock: config.clock, inspectAnnouncement });
    const node = await createCosignerNode({
      identity: config.identity,
      ...(config.listen !== undefined ? { listen: config.listen } : {}),
      ...(config.announce !== undefined ? { announce: config.announce } : {}),
      ...(config.mdns !== undefined ? { mdns: config.mdns } : {}),
      dht: { mode: config.dht?.mode ?? 'server', addresses: config.dht?.addresses ?? 'all', rules },
      connectionGater: { denyDialPeer: banned, denyInboundEncryptedConnection: banned, denyOutboundEncryptedConnection: banned },
      ...(config.storeLimits !== undefined ? { storeLimits: config.storeLimits } : {}),
      nat: { upnp: config.upnp !== false },
      ...(config.rendezvous !== undefined ? { amino: { addresses: config.rendezvous.addresses ?? 'public-only' } } : {}),
    });
    const libp2p = node.libp2p;
    const dhtMs = this.#timeouts.dhtMs;
    const directory = new Directory({
      clock: config.clock,
      lookup: (signer, signal) => dhtGet(libp2p, rules, cardKey(signer), AbortSignal.any([signal, AbortSignal.timeout(dhtMs)])),
    });
    const policy = new InboundPolicy(libp2p, guard, (peer) => this.#isCosigner(directory, peer));
    const cards = new CardExchange({ libp2p, directory, policy, ownCards: () => this.#ownCards, frameTimeoutMs: this.#timeouts.frameMs });
    const transport = new CosignerTransport({
      libp2p,
      rules,
      directory,
      policy,
      cards,
      clock: config.clock,
      scheduler: config.scheduler,
      random: config.random,
      signers: config.signers,
      inspectAnnouncement,
      timeouts: this.#timeouts,
      ...(config.retry !== undefined ? { retry: config.retry } : {}),
    });
    const keeper = new RelayKeeper({
      libp2p,
      clock: config.clock,
      scheduler: config.scheduler,
      configured: config.relays ?? [],
      intervalMs: this.#timeouts.bootstrapRetryMs,
      dialTimeoutMs: this.#timeouts.frameMs,
    });
    const paths = new PeerPaths(libp2p, config.clock);
    const amino = libp2p.services.amino;
    const rendezvous =
      config.rendezvous === undefined || amino === undefined
        ? undefined
        : new Rendezvous({
            libp2p,
            amino,
            keeper,
            scheduler: config.scheduler,
            bootstrap: config.rendezvous.bootstrap,
            ownKeys: () => config.signers.map((s) => s.publicKey),
            unreached: () => this.#unreachedCosigners(directory, libp2p),
            ...(config.rendezvous.timings !== undefined ? { timings: config.rendezvous.timings } : {}),
          });
    const running: Running = { node, libp2p, rules, directory, cards, transport, keeper, paths, rendezvous, timers: [], detach: [] };
    this.#running = running;
    try {
      this.#wire(running);
      this.#ownCards = this.#makeCards(running);
      for (const card of this.#ownCards) directory.learn(card.bytes, 'self');
      transport.watchCosigners([...this.#watched.values()]);
      directory.pin(this.#pinned.values());
      this.#syncFanout();
      await cards.start();
      await transport.start();
      paths.start();
      keeper.start();
      rendezvous?.start();
      const { scheduler } = config;
      running.timers.push(scheduler.setInterval(() => this.#republishCard(), this.#timeouts.cardRepublishIntervalMs));
      running.timers.push(
        scheduler.setInterval(() => {
          if (libp2p.getConnections().length === 0) void this.#bootstrap(running);
        }, this.#timeouts.bootstrapRetryMs),
      );
    } catch (err) {
      await this.stop();
      throw err;
    }
    // Joining the DHT, publishing and the first inbox poll happen in the background: start() must not
    // wait on the network, which may be absent.
    void this.#bootstrap(running).then(() => {
      this.#republishCard();
      void transport.pollInbox();
    });
  }

  async stop(): Promise<void> {
    const running = this.#running;
    if (running === undefined) return;
    this.#running = undefined;
    this.#detachFanout = undefined;
    for (const t of running.timers) this.#config.scheduler.clear(t);
    if (running.cardUpdate !== undefined) this.#config.scheduler.clear(running.cardUpdate);
    running.keeper.stop();
    running.rendezvous?.stop();
    running.paths.stop();
    for (const detach of running.detach) detach();
    await running.transport.stop();
    // Stopping regardless: libp2p.stop() below closes whatever the card exchange could not.
    await running.cards.stop().catch(() => undefined);
    await running.libp2p.stop();
    this.#lan.clear();
  }

  /**
   * Issues fresh cards (with the current addresses and, if given, a new display name), sends them to
   * connected peers and puts them in the DHT; resolves with the cards and how many DHT peers took them.
   */
  async publishCard(update: { displayName?: string } = {}): Promise<{ cards: SignerCard[]; dhtPeersAccepted: number }> {
    const running = this.#need();
    if (update.displayName !== undefined) this.#displayName = update.displayName;
    this.#ownCards = this.#makeCards(running);
    for (const card of this.#ownCards) running.directory.learn(card.bytes, 'self');
    void running.cards.pushToConnected();
    const results = await Promise.all(
      this.#ownCards.map((card) => dhtPut(running.libp2p, cardKey(card.signerKey), card.bytes, AbortSignal.timeout(this.#timeouts.dhtMs))),
    );
    return { cards: this.#ownCards, dhtPeersAccepted: Math.min(...results) };
  }

  /** publishCard in the background: the DHT not answering is no error (dhtPut counts who took it);
   *  anything else is counted and logged, except the node having stopped meanwhile. */
  #republishCard(): void {
    this.publishCard().catch((e: unknown) => {
      if (!isCosignerError(e, 'NOT_RUNNING')) this.#failures.record('card publish', e);
    });
  }

  /** The card of a signer key: from the directory, else looked up in the DHT. */
  async findSigner(signer: Uint8Array, options: { refresh?: boolean } = {}): Promise<SignerCard | undefined> {
    return this.#need().directory.resolve(signer, { signal: AbortSignal.timeout(this.#timeouts.dhtMs), ...options });
  }

  /** Adds co-signer keys whose DHT inboxes to us are polled (the daemon passes every wallet's co-signers). */
  watchCosigners(keys: readonly Uint8Array[]): void {
    const valid = keys.filter(isValidSignerKey);
    for (const key of valid) this.#watched.set(bytesToHex(key), Uint8Array.from(key));
    this.#running?.transport.watchCosigners(valid);
    this.pinSigners(valid);
    // A new group's co-signers are looked for on the public network now, not at the next interval.
    if (valid.length > 0) this.#running?.rendezvous?.lookUp();
  }

  /** Keeps these signers' cards in the directory whatever strangers' cards arrive (Directory.pin). */
  pinSigners(keys: readonly Uint8Array[]): void {
    const valid = keys.filter(isValidSignerKey);
    for (const key of valid) if (this.#pinned.size < MAX_PINNED_SIGNERS) this.#pinned.set(bytesToHex(key), Uint8Array.from(key));
    this.#running?.directory.pin(valid);
  }

  /** Looks in our DHT inboxes now; resolves with the number of new announcements handed over. */
  async pollInbox(): Promise<number> {
    return this.#need().transport.pollInbox();
  }

  /** Co-signer nodes found on the LAN by mDNS, with the cards they presented. */
  lanPeers(): LanPeer[] {
    const running = this.#running;
    if (running === undefined) return [];
    return [...this.#lan.entries()].map(([peerId, info]) => ({
      peerId,
      addresses: info.addresses,
      connected: running.libp2p.getConnections(peerIdFromString(peerId)).length > 0,
      cards: running.directory.byPeer(peerId).map(summarizeCard),
    }));
  }

  /** The node's health snapshot; also answers while stopped (running: false). */
  status(): NodeStatus {
    const running = this.#running;
    return collectNodeStatus({
      peerId: this.#peerId,
      node: running?.node,
      mdnsEnabled: this.#config.mdns?.enabled === true,
      guard: this.#guard,
      transport: running?.transport.stats(),
      knownSigners: running?.directory.cards().length ?? 0,
      lanPeers: this.lanPeers(),
      signersOf: (peerId) => (running?.directory.byPeer(peerId) ?? []).slice(0, 8).map((card) => bytesToHex(card.signerKey)),
      relays: running?.keeper.relays() ?? [],
      upnp: this.#config.upnp !== false,
      cosigners: this.#cosignerReach(running),
      failures: this.#failures.snapshot(),
    });
  }

  /** How each co-signer of our groups (not our own keys) is reached now. */
  #cosignerReach(running: Running | undefined): CosignerReach[] {
    const local = new Set(this.#config.signers.map((s) => bytesToHex(s.publicKey)));
    return [...this.#watched.entries()]
      .filter(([signerKey]) => !local.has(signerKey))
      .map(([signerKey, key]) => {
        const card = running?.directory.get(key);
        const path = running?.paths.of(card?.peerId) ?? { path: 'not-connected' as const, since: null, relay: null };
        return { signerKey, displayName: card?.displayName ?? null, peerId: card?.peerId ?? null, ...path };
      });
  }

  on(event: 'card', listener: CardListener): () => void {
    if (event !== 'card') throw new CosignerError('INVALID_INPUT', `unknown network event ${String(event)}`);
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  #wire(running: Running): void {
    const { libp2p, directory, transport } = running;
    running.detach.push(
      directory.onCard((card, source) => {
        if (source !== 'self') {
          // Make the card's addresses dialable, and retry anything waiting for this signer right away.
          const addrs = card.multiaddrs.map((a) => multiaddr(a));
          if (addrs.length > 0)
            libp2p.peerStore
              .merge(peerIdFromString(card.peerId), { multiaddrs: addrs })
              .catch((e: unknown) => this.#failures.record('peer-store merge', e));
          // A co-signer's relay is one we can share: holding a reservation there too lets it reach us.
          if (this.#watched.has(bytesToHex(card.signerKey))) running.keeper.learnFromCard(card.multiaddrs);
          transport.kick(card.signerKey);
        }
        for (const listener of this.#listeners) listener(card, source);
      }),
    );
    const onConnect = (evt: CustomEvent<PeerId>): void => {
      for (const card of directory.byPeer(evt.detail.toString())) transport.kick(card.signerKey);
    };
    libp2p.addEventListener('peer:connect', onConnect);
    running.detach.push(() => libp2p.removeEventListener('peer:connect', onConnect));
    // Our addresses change when a relay reservation is made or lost, or UPnP/AutoNAT confirm one: the
    // cards must say how to reach us now (a card without our relay address leaves us unreachable).
    const onSelfUpdate = (): void => {
      if (running.cardUpdate !== undefined) this.#config.scheduler.clear(running.cardUpdate);
      running.cardUpdate = this.#config.scheduler.setTimeout(() => {
        running.cardUpdate = undefined;
        const now = cardAddresses(running.libp2p.getMultiaddrs()).join(' ');
        if (this.#running === running && now !== (this.#ownCards[0]?.multiaddrs ?? []).join(' ')) this.#republishCard();
      }, CARD_UPDATE_SETTLE_MS);
    };
    libp2p.addEventListener('self:peer:update', onSelfUpdate);
    running.detach.push(() => libp2p.removeEventListener('self:peer:update', onSelfUpdate));
    const mdns = libp2p.services.mdns;
    if (mdns !== undefined) {
      const onLanPeer = (evt: CustomEvent<PeerInfo>): void => {
        const peer = evt.detail;
        if (peer.id.equals(libp2p.peerId) || this.#guard.isBanned(peer.id.toString())) return;
        this.#lan.set(peer.id.toString(), { addresses: peer.multiaddrs.map((a) => a.toString()) });
        // libp2p 3 does not dial discovered peers by itself: connect, and the card exchange follows.
        if (libp2p.getConnections(peer.id).length === 0) {
          // A LAN peer not answering now is dialed again at its next mDNS announcement; nothing is lost.
          libp2p.dial(peer.id, { signal: AbortSignal.timeout(this.#timeouts.frameMs) }).catch(() => undefined);
        }
      };
      mdns.addEventListener('peer', onLanPeer);
      running.detach.push(() => mdns.removeEventListener('peer', onLanPeer));
    }
  }

  /** Co-signer keys (not our own) whose node we have no connection to: what rendezvous looks up. */
  #unreachedCosigners(directory: Directory, libp2p: CosignerLibp2p): Uint8Array[] {
    const local = new Set(this.#config.signers.map((s) => bytesToHex(s.publicKey)));
    return [...this.#watched.entries()]
      .filter(([hex, key]) => {
        if (local.has(hex)) return false;
        const peer = directory.get(key)?.peerId;
        return peer === undefined || libp2p.getConnections(peerIdFromString(peer)).length === 0;
      })
      .map(([, key]) => key);
  }

  /** A peer whose signer card names a co-signer of one of our groups (a watched key). */
  #isCosigner(directory: Directory, peer: string): boolean {
    return directory.byPeer(peer).some((card) => this.#watched.has(bytesToHex(card.signerKey)));
  }

  #makeCards(running: Running): SignerCard[] {
    const previous = Math.max(0, ...this.#ownCards.map((c) => c.issuedAt));
    const issuedAt = Math.max(this.#config.clock.now(), previous + 1);
    const multiaddrs = cardAddresses(running.libp2p.getMultiaddrs());
    const peerId = running.libp2p.peerId.toString();
    return this.#config.signers.map((signer) =>
      createSignerCard({ peerId, displayName: this.#displayName, multiaddrs, issuedAt }, signer, this.#config.random),
    );
  }

  async #bootstrap(running: Running): Promise<void> {
    const addrs = this.#config.bootstrap ?? [];
    if (addrs.length === 0) return;
    await dialBootstrapPeers(running.libp2p, addrs, this.#timeouts.frameMs);
  }

  #stableTransport(): SessionTransport {
    const network = this;
    return {
      get localPeerId(): string {
        return network.#peerId;
      },
      send(toSigner: Uint8Array, frame: Uint8Array, meta: OutboundMeta): Promise<void> {
        const running = network.#running;
        if (running === undefined) return Promise.reject(new CosignerError('NOT_RUNNING', 'the network is not running'));
        return running.transport.send(toSigner, frame, meta);
      },
      subscribe(handler: InboundHandler): () => void {
        network.#handlers.add(handler);
        network.#syncFanout();
        return () => {
          network.#handlers.delete(handler);
          network.#syncFanout();
        };
      },
      peerOf(signer: Uint8Array): string | undefined {
        return network.#running?.directory.peerOf(signer);
      },
    };
  }

  /**
   * The running transport has one subscriber, fanning out to ours, only while we have any: with none
   * it answers NACK not-ready, so that senders retry until a coordinator listens.
   */
  #syncFanout(): void {
    const running = this.#running;
    const wanted = running !== undefined && this.#handlers.size > 0;
    if (wanted && this.#detachFanout === undefined) {
      this.#detachFanout = running.transport.subscribe((inbound) => handOver(this.#handlers, inbound));
    } else if (!wanted && this.#detachFanout !== undefined) {
      this.#detachFanout();
      this.#detachFanout = undefined;
    }
  }

  #need(): Running {
    if (this.#running === undefined) throw new CosignerError('NOT_RUNNING', 'the network is not running');
    return this.#running;
  }
}
