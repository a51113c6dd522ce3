/**
 * A stand-in for a public IPFS node, run as its own program in a NAT test's "internet" namespace:
 * an Amino DHT server (`/ipfs/kad/1.0.0`, storing provider records for anyone) and a circuit relay
 * v2 server with kubo's default limits, as kubo runs them with its default config. It holds no
 * Cosigner protocol at all: the daemons must meet through what the public network offers.
 *
 *   node test/support/public-ipfs-node.ts LISTEN_ADDR [PEER_ADDR...]
 *
 * It dials the given peers (other public nodes) so that their DHT routing tables hold each other,
 * and prints `Public node address: <addr>/p2p/<id>`.
 */
import { createLibp2p } from 'libp2p';
import { tcp } from '@libp2p/tcp';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { identify } from '@libp2p/identify';
import { ping } from '@libp2p/ping';
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht';
import { multiaddr } from '@multiformats/multiaddr';
import { quietComponentLogger } from '../../main/p2p/libp2p-logger.ts';
import { KUBO_RELAY_LIMITS, natParts } from '../../main/p2p/reachability.ts';
import { AMINO_PROTOCOL } from '../../main/p2p/rendezvous.ts';

const [listen, ...peers] = process.argv.slice(2);
if (listen === undefined) throw new Error('usage: public-ipfs-node.ts LISTEN_ADDR [PEER_ADDR...]');

// kubo's Swarm.RelayService defaults: 128 reservations, and the per-connection limits of go-libp2p.
const nat = natParts({ relayClient: false, upnp: false, relayServer: { limits: KUBO_RELAY_LIMITS, maxReservations: 128 } });
const node = await createLibp2p({
  addresses: { listen: [listen] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  services: {
    identify: identify(),
    ping: ping(),
    // The test's internet uses 10.99.0.0/24, a private range: the mapper must keep it.
    amino: kadDHT({ protocol: AMINO_PROTOCOL, clientMode: false, peerInfoMapper: passthroughMapper }),
    ...nat.services,
  },
  logger: quietComponentLogger(),
});
for (const peer of peers) await node.dial(multiaddr(peer), { signal: AbortSignal.timeout(20_000) });
for (const a of node.getMultiaddrs()) console.log(`Public node address: ${a.toString()}`);

const stop = (): void => {
  void Promise.resolve(node.stop()).then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
