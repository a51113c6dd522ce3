/**
 * NAT traversal parts of the libp2p node, kept apart from node.ts so that the node's own config
 * stays small: the circuit relay v2 transport (a node behind a NAT is reached through a relay it
 * holds a reservation on), AutoNAT v2 (peers dial our addresses back, so the node learns which of
 * them are publicly reachable) and UPnP/NAT-PMP port mapping on the home router (a setting).
 * `cosigner relay` adds the relay server here too.
 *
 * Measured here (js-libp2p 3.3, Node 22, network namespaces): DCUtR hole punching and WebRTC direct
 * did not connect, so the relay is the path that must always work. Noise runs end to end through
 * the relay: it sees who talks to whom and when, never what.
 */
import { autoNATv2 } from '@libp2p/autonat-v2';
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import { uPnPNAT } from '@libp2p/upnp-nat';
import type { Libp2pInit } from 'libp2p';

/** What a relay lets through one relayed connection before it closes it. */
export interface RelayLimits {
  dataBytes: number;
  durationMs: number;
}

/**
 * go-libp2p's (and so kubo's) defaults, which js-libp2p's relay server applies too: 128 KiB
 * (both directions, Noise and yamux overhead included) or 2 minutes, whichever comes first.
 */
export const KUBO_RELAY_LIMITS: RelayLimits = { dataBytes: 128 * 1024, durationMs: 2 * 60_000 };

/**
 * `cosigner relay`'s default. A 10-input PSBT session moves well under 1 MiB through a relay (the
 * announcement is one frame of at most 256 KiB; nonces are 66 bytes and partial signatures 32 per
 * input and signer), so 4 MiB leaves room for retries and card exchanges; 10 minutes covers the
 * rounds after the last approval. When a connection reaches a limit the next frame opens a new
 * relayed connection (delivery retries), so a limit bounds what a stranger can push through the
 * relay, never how long a session may wait for its signers.
 */
export const GROUP_RELAY_LIMITS: RelayLimits = { dataBytes: 4 * 1024 * 1024, durationMs: 10 * 60_000 };

export interface RelayServerConfig {
  /** Per relayed connection; null: none (for a relay only the group's own nodes may use). */
  limits: RelayLimits | null;
  /** Reservations held at once. */
  maxReservations: number;
}

export interface NatConfig {
  /** Dial through relays and hold reservations on them (default true). */
  relayClient?: boolean;
  /** Ask the home router for a port mapping by UPnP IGD / NAT-PMP (default true). */
  upnp?: boolean;
  /** Be a relay for others (`cosigner relay`). */
  relayServer?: RelayServerConfig;
}

type Transports = NonNullable<Libp2pInit['transports']>;
type Services = Record<string, (components: never) => unknown>;

/** The transports and services the NAT config adds to the node. */
export function natParts(config: NatConfig): { transports: Transports; services: Services } {
  const transports: Transports = [];
  const services: Services = {
    // Our own addresses are checked by peers that dial them back; the answers feed libp2p's address
    // manager, so only confirmed public addresses are advertised. It also answers others' checks.
    autoNAT: autoNATv2(),
  };
  if (config.relayClient !== false) {
    // A reservation is made only on relays we ask for (relay-keeper.ts), never by discovery: an
    // unreserved `/p2p-circuit` listen address makes the transport walk the DHT without pause until
    // it finds a relay, which on a LAN-only group would be forever.
    transports.push(circuitRelayTransport({ reservationCompletionTimeout: 10_000 }) as Transports[number]);
  }
  if (config.upnp !== false) services.upnp = uPnPNAT();
  const server = config.relayServer;
  if (server !== undefined) {
    services.relay = circuitRelayServer({
      reservations: {
        maxReservations: server.maxReservations,
        applyDefaultLimit: server.limits !== null,
        ...(server.limits !== null
          ? // The server enforces the duration in milliseconds (js-libp2p 3.3 also sends that number
            // to the client, which reads it as seconds: the client's own idea of the limit is wrong).
            { defaultDataLimit: BigInt(server.limits.dataBytes), defaultDurationLimit: server.limits.durationMs }
          : {}),
      },
    });
  }
  return { transports, services };
}
