/**
 * The node's health snapshot, as plain JSON for the coordinator's health report and the UI:
 * identity, addresses, connections, DHT state, mDNS and the LAN co-signers it found, and the
 * counters that show abuse (rejects by reason, bans).
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import type { SingleKadDHT } from '@libp2p/kad-dht';
import { isPrivate } from '@libp2p/utils';
import type { CosignerNode } from './node.ts';
import { isRelayed } from './peer-paths.ts';
import type { PeerPath } from './peer-paths.ts';
import type { RelayState } from './relay-keeper.ts';
import type { Ban, PeerGuard } from './peer-guard.ts';
import type { SignerCard } from './signer-card.ts';
import type { TransportStats } from './transport.ts';
import type { RejectReason } from './wire.ts';
import type { Multiaddr } from '@multiformats/multiaddr';

export interface CardSummary {
  signerKey: string;
  displayName: string;
  peerId: string;
  issuedAt: number;
}

export interface LanPeer {
  peerId: string;
  addresses: string[];
  connected: boolean;
  /** The signer cards this peer presented (empty until the card exchange completes). */
  cards: CardSummary[];
}

/** How others can reach this node. */
export interface NodeReachability {
  /**
   * public: a public address is advertised (listened on, mapped by UPnP or confirmed by AutoNAT's
   * dial-backs); relayed: reachable from outside only through relays; private: only on the LAN.
   */
  status: 'public' | 'relayed' | 'private';
  publicAddresses: string[];
  relayAddresses: string[];
  relays: RelayState[];
  /** Port mapping on the home router (UPnP IGD / NAT-PMP) is asked for. */
  upnp: boolean;
}

/** How a co-signer (a key of one of our groups) is reached now, and since when. */
export interface CosignerReach {
  signerKey: string;
  displayName: string | null;
  peerId: string | null;
  path: PeerPath;
  since: number | null;
  /** For a relayed path, the relay's peer id. */
  relay: string | null;
}

/**
 * A superset of the UI contract's NodeStatus (preload/contract.ts): the contract's fields come first
 * and keep its names; the rest is detail for logs and diagnostics.
 */
export interface NodeStatus {
  running: boolean;
  peerId: string;
  listenAddresses: string[];
  connections: number;
  dhtRoutingTableSize: number;
  mdnsEnabled: boolean;
  /** Refused inbound frames by reason. */
  rejectedFrames: Record<RejectReason, number>;
  connectedPeers: number;
  dhtMode: 'client' | 'server';
  dhtStore: { records: number; bytes: number; rollbacksRefused: number };
  /** Co-signer nodes found on the LAN by mDNS, with the cards they presented. */
  lanPeers: LanPeer[];
  knownSigners: number;
  bannedPeers: number;
  bansIssued: number;
  transport: TransportStats;
  /** The bans in force, with the strikes that earned them and the signer keys the peer's cards name
   *  (so the UI can say which co-signer is blocked, and why). */
  bans: PeerBan[];
  /** Inbound connections still in their handshake, and those refused because their address had
   *  too many in progress (main/p2p/inbound-limits.ts). */
  inboundHandshakes: { pending: number; refusedPerAddress: number };
  /** Background work that failed (a card republish, a peer-store write), by what it was. */
  failures: Record<string, number>;
  reachability: NodeReachability;
  cosigners: CosignerReach[];
}

export interface PeerBan extends Ban {
  signers: string[];
}

export function summarizeCard(card: SignerCard): CardSummary {
  return { signerKey: bytesToHex(card.signerKey), displayName: card.displayName, peerId: card.peerId, issuedAt: card.issuedAt };
}

const IDLE_TRANSPORT: TransportStats = {
  framesDelivered: 0,
  inboxAnnouncementsDelivered: 0,
  inboxRecordsPublished: 0,
  inboxPublishFailures: 0,
  pendingDeliveries: 0,
  failedAttempts: 0,
  watchedCosigners: 0,
  nacksReceived: { 'rate-limited': 0, 'not-ready': 0 },
};

/** The snapshot of a running node, or of a stopped one (`node` undefined: no addresses, no connections). */
export function collectNodeStatus(parts: {
  peerId: string;
  node: CosignerNode | undefined;
  mdnsEnabled: boolean;
  guard: PeerGuard;
  transport: TransportStats | undefined;
  knownSigners: number;
  lanPeers: LanPeer[];
  /** The signer keys (hex) a peer's cards name. */
  signersOf: (peerId: string) => string[];
  relays: RelayState[];
  upnp: boolean;
  cosigners: CosignerReach[];
  failures: Record<string, number>;
}): NodeStatus {
  const { node, guard } = parts;
  const connections = node?.libp2p.getConnections() ?? [];
  // The kad-dht service object is a single DHT with a routing table; its public type hides it.
  const dht = node?.libp2p.services.dht as unknown as SingleKadDHT | undefined;
  const addresses = node?.libp2p.getMultiaddrs() ?? [];
  return {
    running: node !== undefined,
    peerId: parts.peerId,
    listenAddresses: addresses.map((a) => a.toString()),
    connections: connections.length,
    dhtRoutingTableSize: dht?.routingTable.size ?? 0,
    mdnsEnabled: parts.mdnsEnabled,
    rejectedFrames: guard.rejectCounts(),
    connectedPeers: new Set(connections.map((c) => c.remotePeer.toString())).size,
    dhtMode: dht?.getMode() ?? 'client',
    dhtStore: {
      records: node?.datastore.dhtEntries ?? 0,
      bytes: node?.datastore.dhtBytes ?? 0,
      rollbacksRefused: node?.datastore.rollbacksRefused ?? 0,
    },
    lanPeers: parts.lanPeers,
    knownSigners: parts.knownSigners,
    bannedPeers: guard.bannedPeers().length,
    bansIssued: guard.bansIssued,
    transport: parts.transport ?? IDLE_TRANSPORT,
    bans: guard.bannedPeers().map((ban) => ({ ...ban, signers: parts.signersOf(ban.peerId) })),
    inboundHandshakes: { pending: node?.pendingInbound.pending ?? 0, refusedPerAddress: node?.pendingInbound.refused ?? 0 },
    failures: parts.failures,
    reachability: reachabilityOf(addresses, parts.relays, parts.upnp),
    cosigners: parts.cosigners,
  };
}

function reachabilityOf(addresses: readonly Multiaddr[], relays: RelayState[], upnp: boolean): NodeReachability {
  const relayAddresses = addresses.filter((a) => isRelayed(a)).map((a) => a.toString());
  const publicAddresses = addresses
    .filter((a) => {
      if (isRelayed(a)) return false;
      try {
        return !isPrivate(a);
      } catch {
        return false;
      }
    })
    .map((a) => a.toString());
  const status = publicAddresses.length > 0 ? 'public' : relayAddresses.length > 0 ? 'relayed' : 'private';
  return { status, publicAddresses, relayAddresses, relays, upnp };
}
