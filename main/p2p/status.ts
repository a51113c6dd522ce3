/**
 * The node's health snapshot, as plain JSON for the coordinator's health report and the UI:
 * identity, addresses, connections, DHT state, mDNS and the LAN co-signers it found, and the
 * counters that show abuse (rejects by reason, bans).
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import type { SingleKadDHT } from '@libp2p/kad-dht';
import type { CosignerNode } from './node.ts';
import type { PeerGuard } from './peer-guard.ts';
import type { SignerCard } from './signer-card.ts';
import type { TransportStats } from './transport.ts';
import type { RejectReason } from './wire.ts';

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

export interface NodeStatus {
  running: boolean;
  peerId: string;
  listenAddresses: string[];
  connections: number;
  connectedPeers: number;
  dht: { mode: 'client' | 'server'; routingTableSize: number; storedRecords: number; storedBytes: number; rollbacksRefused: number };
  mdns: { enabled: boolean; lanPeers: LanPeer[] };
  knownSigners: number;
  rejects: Record<RejectReason, number>;
  bannedPeers: number;
  bansIssued: number;
  transport: TransportStats;
}

export function summarizeCard(card: SignerCard): CardSummary {
  return { signerKey: bytesToHex(card.signerKey), displayName: card.displayName, peerId: card.peerId, issuedAt: card.issuedAt };
}

export function collectNodeStatus(parts: {
  node: CosignerNode;
  running: boolean;
  guard: PeerGuard;
  transport: TransportStats;
  knownSigners: number;
  lanPeers: LanPeer[];
}): NodeStatus {
  const { libp2p, datastore } = parts.node;
  const connections = libp2p.getConnections();
  // The kad-dht service object is a single DHT with a routing table; its public type hides it.
  const dht = libp2p.services.dht as unknown as SingleKadDHT;
  return {
    running: parts.running,
    peerId: libp2p.peerId.toString(),
    listenAddresses: libp2p.getMultiaddrs().map((a) => a.toString()),
    connections: connections.length,
    connectedPeers: new Set(connections.map((c) => c.remotePeer.toString())).size,
    dht: {
      mode: dht.getMode(),
      routingTableSize: dht.routingTable.size,
      storedRecords: datastore.dhtEntries,
      storedBytes: datastore.dhtBytes,
      rollbacksRefused: datastore.rollbacksRefused,
    },
    mdns: { enabled: parts.node.mdnsEnabled, lanPeers: parts.lanPeers },
    knownSigners: parts.knownSigners,
    rejects: parts.guard.rejectCounts(),
    bannedPeers: parts.guard.bannedPeers().length,
    bansIssued: parts.guard.bansIssued,
    transport: parts.transport,
  };
}
