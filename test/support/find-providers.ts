/**
 * What anyone on the public network learns by looking up a signer key's rendezvous CID: run as its
 * own program in a NAT test's "internet" namespace, it joins the Amino DHT through the given public
 * node as a client, asks for the CID's providers, and prints them as one JSON line
 * `Providers: [{"id": ..., "addrs": [...]}]`.
 *
 *   node test/support/find-providers.ts BOOTSTRAP_ADDR SIGNER_KEY_HEX
 */
import { createLibp2p } from 'libp2p';
import { tcp } from '@libp2p/tcp';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { identify } from '@libp2p/identify';
import { ping } from '@libp2p/ping';
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht';
import { hexToBytes } from '@noble/hashes/utils.js';
import { multiaddr } from '@multiformats/multiaddr';
import { quietComponentLogger } from '../../main/p2p/libp2p-logger.ts';
import { AMINO_PROTOCOL, rendezvousCid } from '../../main/p2p/rendezvous.ts';

const [bootstrap, keyHex] = process.argv.slice(2);
if (bootstrap === undefined || keyHex === undefined) throw new Error('usage: find-providers.ts BOOTSTRAP_ADDR SIGNER_KEY_HEX');
const node = await createLibp2p({
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  services: {
    identify: identify(),
    ping: ping(),
    amino: kadDHT({ protocol: AMINO_PROTOCOL, clientMode: true, peerInfoMapper: passthroughMapper }),
  },
  logger: quietComponentLogger(),
});
await node.dial(multiaddr(bootstrap), { signal: AbortSignal.timeout(20_000) });
const found = new Map<string, string[]>();
for (let i = 0; i < 20 && found.size === 0; i++) {
  // The routing table fills once identify has run on the bootstrap connection.
  await new Promise((r) => setTimeout(r, 500));
  try {
    for await (const event of node.services.amino.findProviders(rendezvousCid(hexToBytes(keyHex)), {
      signal: AbortSignal.timeout(10_000),
    })) {
      if (event.name === 'PROVIDER') for (const p of event.providers) found.set(p.id.toString(), p.multiaddrs.map(String));
    }
  } catch {
    // no peers yet: try again
  }
}
console.log(`Providers: ${JSON.stringify([...found].map(([id, addrs]) => ({ id, addrs })))}`);
await node.stop();
process.exit(0);
