/**
 * Rendezvous on the public libp2p network, with no server of ours or the users': a node joins the
 * IPFS Amino DHT (`/ipfs/kad/1.0.0`) as a client, holds reservations on public relays it meets
 * there (public IPFS nodes run circuit relay v2 with kubo's default limits), and announces itself
 * as the provider of a CID derived from each of its signer keys. A co-signer that knows only the
 * signer key looks that CID up, learns the provider's peer id and relay addresses, dials it through
 * the relay, and the card exchange on connect binds the peer to the key (a provider record proves
 * nothing: anyone can claim to provide any CID, and only a card signed by the key counts).
 *
 * Cosigner's own DHT (`/cosigner/kad/1.0.0`) is untouched: the Amino DHT is used only to meet.
 * What a node reveals this way is in docs/NETWORK.md ("Rendezvous on the public network").
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import { kadDHT, passthroughMapper, removePrivateAddressesMapper } from '@libp2p/kad-dht';
import type { KadDHT, SingleKadDHT } from '@libp2p/kad-dht';
import type { IdentifyResult, PeerId } from '@libp2p/interface';
import { CID } from 'multiformats/cid';
import { create as createDigest } from 'multiformats/hashes/digest';
import { isPrivate } from '@libp2p/utils';
import type { Multiaddr } from '@multiformats/multiaddr';
import type { Scheduler, TimerHandle } from '../session/ports.ts';
import { dialBootstrapPeers } from './node.ts';
import type { CosignerLibp2p } from './node.ts';
import { isRelayed } from './peer-paths.ts';
import type { RelayKeeper } from './relay-keeper.ts';

export const AMINO_PROTOCOL = '/ipfs/kad/1.0.0';
export const RELAY_HOP_PROTOCOL = '/libp2p/circuit/relay/0.2.0/hop';
export const RENDEZVOUS_TAG = 'Cosigner/rendezvous';

/**
 * The public bootstrappers libp2p and kubo ship (their `/dnsaddr/bootstrap.libp2p.io` entries; each
 * resolves to several TCP and QUIC addresses of one node).
 */
export const PUBLIC_BOOTSTRAP: readonly string[] = [
  '/dnsaddr/bootstrap.libp2p.io/p2p/QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJN',
  '/dnsaddr/bootstrap.libp2p.io/p2p/QmQCU2EcMqAqQPR2i9bChDtGNJchTbq5TbXJJ16u19uLTa',
  '/dnsaddr/bootstrap.libp2p.io/p2p/QmbLHAnMoJPWSCR5Zhtx6BHJX9KiKNN6tpvbUcqanj75Nb',
  '/dnsaddr/bootstrap.libp2p.io/p2p/QmcZf59bWwK5XFi76CZX8cbJ4BhTzzA3gU1ZjYZcYW3dwt',
];

const RAW_CODEC = 0x55;
const SHA2_256 = 0x12;

/**
 * The CID a signer key's node provides: CIDv1, raw, sha2-256 multihash of
 * taggedHash("Cosigner/rendezvous", signer key). The tag keeps it apart from any content CID and
 * from our other hashes of the key; only someone who knows the key can compute it.
 */
export function rendezvousCid(signerKey: Uint8Array): CID {
  return CID.createV1(RAW_CODEC, createDigest(SHA2_256, schnorr.utils.taggedHash(RENDEZVOUS_TAG, signerKey)));
}

export interface AminoOptions {
  /** 'public-only' (the real network) drops private addresses from DHT peer info; 'all' for test networks. */
  addresses: 'all' | 'public-only';
}

/** The Amino DHT service, client mode: we ask and announce, never store others' records. */
export function aminoService(options: AminoOptions): ReturnType<typeof kadDHT> {
  return kadDHT({
    protocol: AMINO_PROTOCOL,
    clientMode: true,
    peerInfoMapper: options.addresses === 'all' ? passthroughMapper : removePrivateAddressesMapper,
    // Apart from Cosigner's own DHT, whose part of the datastore is bounded (dht-store.ts).
    datastorePrefix: '/dht-amino',
    logPrefix: 'libp2p:dht-amino',
    metricsPrefix: 'libp2p_dht_amino',
  });
}

export interface RendezvousTimings {
  /** How often unreached co-signers are looked up, and bootstrappers redialled while the Amino routing table is empty. */
  lookupIntervalMs: number;
  /** How often our provider records are announced again (they also go out whenever our relay addresses change). */
  reprovideIntervalMs: number;
  /** One DHT query (provide or find) at most. */
  queryTimeoutMs: number;
  dialTimeoutMs: number;
}

export const DEFAULT_RENDEZVOUS_TIMINGS: RendezvousTimings = {
  lookupIntervalMs: 30_000,
  // Public DHT servers keep a provider record 48 hours (go-libp2p-kad-dht) and its addresses less:
  // 12 hours keeps it fresh without being one of the DHT's louder clients.
  reprovideIntervalMs: 12 * 3600_000,
  queryTimeoutMs: 60_000,
  dialTimeoutMs: 15_000,
};

/** Providers tried per signer key and lookup: a stranger may provide any CID, and each costs a dial. */
const MAX_PROVIDERS_PER_LOOKUP = 4;
/** Public relays we hold a reservation on at once. */
const MAX_PUBLIC_RELAYS = 2;
/** Addresses change in bursts (a reservation adds several): one announcement for the burst. */
const SETTLE_MS = 1000;

export interface RendezvousDeps {
  libp2p: CosignerLibp2p;
  amino: KadDHT;
  keeper: RelayKeeper;
  scheduler: Scheduler;
  bootstrap: readonly string[];
  /** Our own signer keys (what we provide). */
  ownKeys: () => readonly Uint8Array[];
  /** Co-signer keys whose nodes we are not connected to now (what we look up). */
  unreached: () => readonly Uint8Array[];
  timings?: Partial<RendezvousTimings>;
}

/** The addresses that go into our provider records: relayed and public ones, never LAN ones. */
export function announcedAddresses(addrs: readonly Multiaddr[]): Multiaddr[] {
  return addrs.filter((a) => {
    if (isRelayed(a)) return true;
    try {
      return !isPrivate(a);
    } catch {
      return false;
    }
  });
}

/** ContentRouting of kad-dht: its public `provide` announces every address we have, LAN ones included. */
interface AminoInternals {
  contentRouting: { provide(key: CID, multiaddrs: Multiaddr[], options: { signal: AbortSignal }): AsyncIterable<unknown> };
}

export class Rendezvous {
  readonly #deps: RendezvousDeps;
  readonly #timings: RendezvousTimings;
  readonly #timers: TimerHandle[] = [];
  readonly #detach: (() => void)[] = [];
  #settle: TimerHandle | undefined;
  #announced = '';
  #lookingUp = false;
  #running = false;

  constructor(deps: RendezvousDeps) {
    this.#deps = deps;
    this.#timings = { ...DEFAULT_RENDEZVOUS_TIMINGS, ...deps.timings };
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    const { libp2p, scheduler } = this.#deps;
    const onIdentify = (evt: CustomEvent<IdentifyResult>): void => this.#maybeRelay(evt.detail);
    libp2p.addEventListener('peer:identify', onIdentify);
    this.#detach.push(() => libp2p.removeEventListener('peer:identify', onIdentify));
    const onSelf = (): void => {
      if (this.#settle !== undefined) scheduler.clear(this.#settle);
      this.#settle = scheduler.setTimeout(() => {
        this.#settle = undefined;
        if (this.#addressKey() !== this.#announced) void this.provide();
      }, SETTLE_MS);
    };
    libp2p.addEventListener('self:peer:update', onSelf);
    this.#detach.push(() => libp2p.removeEventListener('self:peer:update', onSelf));
    this.#timers.push(
      scheduler.setInterval(() => {
        // An announcement that failed (no DHT peers yet, a timeout) is tried again here.
        if (this.#addressKey() !== this.#announced) void this.provide();
        this.lookUp();
      }, this.#timings.lookupIntervalMs),
    );
    this.#timers.push(scheduler.setInterval(() => void this.provide(), this.#timings.reprovideIntervalMs));
    this.lookUp();
  }

  stop(): void {
    this.#running = false;
    for (const t of this.#timers.splice(0)) this.#deps.scheduler.clear(t);
    if (this.#settle !== undefined) this.#deps.scheduler.clear(this.#settle);
    this.#settle = undefined;
    for (const d of this.#detach.splice(0)) d();
  }

  /**
   * Announces each own signer key's CID with our relayed and public addresses; with none (no
   * reservation yet) there is nothing a stranger's node could dial, so nothing is announced.
   */
  async provide(): Promise<void> {
    const { libp2p, amino, ownKeys } = this.#deps;
    const addrs = announcedAddresses(libp2p.getMultiaddrs());
    this.#announced = this.#addressKey();
    if (!this.#running || addrs.length === 0) return;
    const routing = (amino as unknown as AminoInternals).contentRouting;
    let failed = false;
    for (const key of ownKeys()) {
      const cid = rendezvousCid(key);
      try {
        for await (const event of routing.provide(cid, addrs, { signal: AbortSignal.timeout(this.#timings.queryTimeoutMs) })) void event;
      } catch {
        failed = true;
      }
      // kad-dht's own re-provider would announce every address we have (LAN ones too): we re-provide ourselves.
      await amino.cancelReprovide(cid).catch(() => undefined);
    }
    if (failed) {
      // Timed out, or no DHT peers yet: the next lookup interval announces again.
      this.#announced = '';
      return;
    }
    // Now reachable: a co-signer that announced itself meanwhile is worth a look before the next interval.
    this.lookUp();
  }

  /** Looks up one co-signer key's providers and dials them; resolves with the peers dialled. */
  async find(signerKey: Uint8Array): Promise<string[]> {
    const { libp2p, amino } = this.#deps;
    const self = libp2p.peerId.toString();
    const dialled: string[] = [];
    const signal = AbortSignal.timeout(this.#timings.queryTimeoutMs);
    try {
      for await (const event of amino.findProviders(rendezvousCid(signerKey), { signal })) {
        if (event.name !== 'PROVIDER') continue;
        for (const provider of event.providers) {
          const id = provider.id.toString();
          if (id === self || dialled.includes(id) || provider.multiaddrs.length === 0) continue;
          dialled.push(id);
          await this.#dial(provider.id, provider.multiaddrs);
          if (dialled.length >= MAX_PROVIDERS_PER_LOOKUP) return dialled;
        }
      }
    } catch {
      // timed out or no peers: the next tick tries again
    }
    return dialled;
  }

  async #dial(peer: PeerId, addrs: Multiaddr[]): Promise<void> {
    const { libp2p } = this.#deps;
    if (libp2p.getConnections(peer).length > 0) return;
    await libp2p.peerStore.merge(peer, { multiaddrs: addrs }).catch(() => undefined);
    // The card exchange runs on connect: it binds the peer to the signer key, or to nothing.
    await libp2p.dial(peer, { signal: AbortSignal.timeout(this.#timings.dialTimeoutMs) }).catch(() => undefined);
  }

  /** Joins the DHT if we are not in it, then looks up every unreached co-signer (one pass at a time). */
  lookUp(): void {
    void this.#pass();
  }

  async #pass(): Promise<void> {
    if (!this.#running || this.#lookingUp) return;
    this.#lookingUp = true;
    try {
      const { libp2p, bootstrap } = this.#deps;
      if ((this.#deps.amino as SingleKadDHT).routingTable.size === 0)
        await dialBootstrapPeers(libp2p, bootstrap, this.#timings.dialTimeoutMs);
      for (const key of this.#deps.unreached()) {
        if (!this.#running) return;
        await this.find(key);
      }
    } finally {
      this.#lookingUp = false;
    }
  }

  /** A public node we dialled that offers relay v2 becomes one of our relays (at most MAX_PUBLIC_RELAYS). */
  #maybeRelay(result: IdentifyResult): void {
    const { protocols, connection, peerId } = result;
    if (!protocols.includes(RELAY_HOP_PROTOCOL) || !protocols.includes(AMINO_PROTOCOL)) return;
    if (connection.direction !== 'outbound' || isRelayed(connection.remoteAddr)) return;
    const address = connection.remoteAddr.toString().includes('/p2p/')
      ? connection.remoteAddr.toString()
      : `${connection.remoteAddr.toString()}/p2p/${peerId.toString()}`;
    this.#deps.keeper.offerPublic(address, MAX_PUBLIC_RELAYS);
  }

  #addressKey(): string {
    return announcedAddresses(this.#deps.libp2p.getMultiaddrs()).map(String).sort().join(' ');
  }
}

export interface RendezvousSettings {
  network: string;
  publicNetwork?: boolean | undefined;
  publicBootstrap?: readonly string[] | undefined;
}

/**
 * The network's `rendezvous` config from the settings: on for mainnet unless turned off ("keep to
 * the LAN and my own relays"), on elsewhere only when asked for. Bootstrap peers given in the
 * settings stand for a network of one's own (or a test's), whose addresses may be private ones.
 */
export function rendezvousFromSettings(settings: RendezvousSettings): {
  rendezvous?: { bootstrap: readonly string[]; addresses: 'all' | 'public-only' };
} {
  const on = settings.publicNetwork ?? (settings.network === 'mainnet' || settings.publicBootstrap !== undefined);
  if (!on) return {};
  const own = settings.publicBootstrap;
  return {
    rendezvous: own !== undefined ? { bootstrap: own, addresses: 'all' } : { bootstrap: PUBLIC_BOOTSTRAP, addresses: 'public-only' },
  };
}
