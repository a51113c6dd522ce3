/**
 * Builds the libp2p 3 node Cosigner runs on: TCP, Noise, Yamux, identify, ping, a Kademlia DHT under
 * Cosigner's own protocol id (with validators and selectors for every namespace we store) and,
 * optionally, mDNS with Cosigner's own service tag.
 */
import { createLibp2p } from 'libp2p';
import { quietComponentLogger } from './libp2p-logger.ts';
import { tcp } from '@libp2p/tcp';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { identify } from '@libp2p/identify';
import type { Identify } from '@libp2p/identify';
import { ping } from '@libp2p/ping';
import type { Ping } from '@libp2p/ping';
import { kadDHT, passthroughMapper, removePrivateAddressesMapper } from '@libp2p/kad-dht';
import type { KadDHT } from '@libp2p/kad-dht';
import { mdns } from '@libp2p/mdns';
import { multiaddr } from '@multiformats/multiaddr';
import type { ConnectionGater, Libp2p, PeerDiscovery } from '@libp2p/interface';
import type { PeerIdentity } from './identity.ts';
import type { DhtRecordRules } from './dht-records.ts';
import { BoundedDhtDatastore } from './dht-store.ts';
import type { DhtStoreLimits } from './dht-store.ts';
import { connectionManagerLimits, DEFAULT_INBOUND_LIMITS, PendingInbound } from './inbound-limits.ts';
import type { InboundLimits } from './inbound-limits.ts';
import { DHT_PROTOCOL } from './wire.ts';
import { natParts } from './reachability.ts';
import type { NatConfig } from './reachability.ts';
import { aminoService } from './rendezvous.ts';
import type { AminoOptions } from './rendezvous.ts';

export const DEFAULT_LISTEN = ['/ip4/0.0.0.0/tcp/0'];
export const DEFAULT_MDNS_SERVICE_TAG = '_cosigner._udp.local';

export interface NodeConfig {
  identity: PeerIdentity;
  /** Multiaddrs to listen on; tests use /ip4/127.0.0.1/tcp/0. */
  listen?: readonly string[];
  /** Addresses to advertise instead of the listen addresses (e.g. a port-forwarded public address). */
  announce?: readonly string[];
  mdns?: { enabled: boolean; serviceTag?: string; intervalMs?: number };
  dht: {
    /** 'server' answers DHT queries and stores records for others; 'client' only asks. */
    mode: 'server' | 'client';
    /** 'all' keeps private and loopback addresses in DHT peer info (LAN and tests); 'public-only' drops them. */
    addresses: 'all' | 'public-only';
    rules: DhtRecordRules;
  };
  connectionGater?: ConnectionGater;
  maxConnections?: number;
  storeLimits?: DhtStoreLimits;
  inboundLimits?: Partial<InboundLimits>;
  /** Relay client, AutoNAT, UPnP, relay server (reachability.ts); all but the server on by default. */
  nat?: NatConfig;
  /** Join the public IPFS Amino DHT as a client, to meet co-signers (rendezvous.ts); off when absent. */
  amino?: AminoOptions;
}

export interface CosignerServices extends Record<string, unknown> {
  identify: Identify;
  ping: Ping;
  dht: KadDHT;
  mdns?: PeerDiscovery;
  amino?: KadDHT;
}

export type CosignerLibp2p = Libp2p<CosignerServices>;

export interface CosignerNode {
  libp2p: CosignerLibp2p;
  datastore: BoundedDhtDatastore;
  mdnsEnabled: boolean;
  /** Inbound handshakes in progress, per address and in total (main/p2p/inbound-limits.ts). */
  pendingInbound: PendingInbound;
}

/** Creates and starts the node. */
export async function createCosignerNode(config: NodeConfig): Promise<CosignerNode> {
  const mdnsEnabled = config.mdns?.enabled === true;
  const datastore = new BoundedDhtDatastore(config.storeLimits);
  const inboundLimits = { ...DEFAULT_INBOUND_LIMITS, ...config.inboundLimits };
  const pendingInbound = new PendingInbound(inboundLimits.pendingPerAddress);
  const services = {
    identify: identify(),
    // kad-dht pings contacts before it evicts or adds them to its routing table: it cannot start without ping.
    ping: ping(),
    dht: kadDHT({
      protocol: DHT_PROTOCOL,
      clientMode: config.dht.mode === 'client',
      // On a LAN and on loopback the only addresses are private ones: the default mapper would drop them all.
      peerInfoMapper: config.dht.addresses === 'all' ? passthroughMapper : removePrivateAddressesMapper,
      validators: config.dht.rules.validators,
      selectors: config.dht.rules.selectors,
      // kad-dht reads each RPC through a 4 MiB stream buffer it does not let us lower, so the number of
      // concurrent inbound DHT streams per connection is what bounds a peer's share of memory.
      maxInboundStreams: 8,
    }),
    ...(mdnsEnabled
      ? { mdns: mdns({ serviceTag: config.mdns?.serviceTag ?? DEFAULT_MDNS_SERVICE_TAG, interval: config.mdns?.intervalMs ?? 10_000 }) }
      : {}),
    ...(config.amino !== undefined ? { amino: aminoService(config.amino) } : {}),
  };
  const nat = natParts(config.nat ?? {});
  const libp2p = (await createLibp2p({
    privateKey: config.identity,
    datastore,
    addresses: {
      listen: [...(config.listen ?? DEFAULT_LISTEN)],
      ...(config.announce !== undefined ? { announce: [...config.announce] } : {}),
    },
    transports: [tcp(), ...nat.transports],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: { maxConnections: config.maxConnections ?? 128, ...connectionManagerLimits(inboundLimits) },
    connectionGater: pendingInbound.gater(config.connectionGater),
    services: { ...services, ...nat.services },
    logger: quietComponentLogger(),
  })) as unknown as CosignerLibp2p;
  return { libp2p, datastore, mdnsEnabled, pendingInbound };
}

export type BootstrapResult = { addr: string; ok: true; peerId: string } | { addr: string; ok: false; error: string };

/** Dials each bootstrap multiaddr (which must carry /p2p/<peer id>); failures are reported, not thrown. */
export async function dialBootstrapPeers(node: CosignerLibp2p, addrs: readonly string[], timeoutMs: number): Promise<BootstrapResult[]> {
  return Promise.all(
    addrs.map(async (addr): Promise<BootstrapResult> => {
      try {
        const connection = await node.dial(multiaddr(addr), { signal: AbortSignal.timeout(timeoutMs) });
        return { addr, ok: true, peerId: connection.remotePeer.toString() };
      } catch (err) {
        return { addr, ok: false, error: err instanceof Error ? err.message : String(err) };
      }
    }),
  );
}
