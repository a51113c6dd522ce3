/**
 * The node `cosigner relay` runs on a machine with a public address: a circuit relay v2 server that
 * co-signers behind NATs hold reservations on (and are dialled through), a Kademlia DHT server under
 * Cosigner's protocol (so the group's signer cards and inboxes have a home that is always online),
 * and AutoNAT v2 answers (so NATed nodes learn what is reachable). It holds no signer key and sees
 * no session content: every relayed connection is Noise-encrypted end to end between co-signers.
 */
import type { PeerId } from '@libp2p/interface';
import type { Clock } from '../session/ports.ts';
import { createDhtRecordRules } from './dht-records.ts';
import type { AnnouncementInspector } from './dht-records.ts';
import type { PeerIdentity } from './identity.ts';
import { createCosignerNode } from './node.ts';
import type { CosignerNode } from './node.ts';
import type { RelayLimits } from './reachability.ts';

export interface RelayNodeConfig {
  identity: PeerIdentity;
  listen: readonly string[];
  announce?: readonly string[];
  /** Per relayed connection; null: none. */
  limits: RelayLimits | null;
  maxReservations: number;
  /** Peer ids that may hold a reservation; empty: anyone. */
  allow: readonly string[];
  upnp: boolean;
  clock: Clock;
  /** The session codec's announcement check, for the DHT inbox records it stores. */
  inspectAnnouncement: AnnouncementInspector;
}

export async function startRelayNode(config: RelayNodeConfig): Promise<CosignerNode> {
  const allowed = new Set(config.allow);
  const refused = (peer: PeerId): boolean => allowed.size > 0 && !allowed.has(peer.toString());
  return createCosignerNode({
    identity: config.identity,
    listen: config.listen,
    ...(config.announce !== undefined ? { announce: config.announce } : {}),
    dht: {
      mode: 'server',
      addresses: 'all',
      rules: createDhtRecordRules({ clock: config.clock, inspectAnnouncement: config.inspectAnnouncement }),
    },
    // Only allowed peers may reserve, so only they can be reached through us; anyone may still dial
    // a reserved peer (that is what the reservation is for), and the peer's own Noise check decides.
    connectionGater: { denyInboundRelayReservation: refused },
    // Two connections per relayed one, plus the DHT: room for a few groups.
    maxConnections: 512,
    nat: { relayClient: false, upnp: config.upnp, relayServer: { limits: config.limits, maxReservations: config.maxReservations } },
  });
}
