/**
 * `cosigner relay`: runs a relay (relay-node.ts) for co-signers behind NATs, on a machine others can
 * reach. Its peer identity is kept in a file in its data directory, so its address stays the same
 * across restarts (the co-signers have it in their settings and signer cards).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultDataDir } from './data-dir.ts';
import { generatePeerIdentity, peerIdentityFromBytes, peerIdentityToBytes } from './p2p/identity.ts';
import type { PeerIdentity } from './p2p/identity.ts';
import { GROUP_RELAY_LIMITS, KUBO_RELAY_LIMITS } from './p2p/reachability.ts';
import type { RelayLimits } from './p2p/reachability.ts';
import { startRelayNode } from './p2p/relay-node.ts';
import { inspectAnnouncement } from './session/announcement.ts';
import { systemClock, systemRandom } from './system-ports.ts';

export const RELAY_USAGE = `Usage: cosigner relay [options]

Runs a relay for co-signers behind NATs, on a machine they can all reach (a public address, or a
forwarded port). Co-signers hold a reservation on it and are dialled through it; it also keeps the
group's signer cards and request inboxes in its DHT. It sees which co-signers talk and when, never
what: connections through it are encrypted end to end. It holds no keys of the group.

Options:
  --data-dir DIR          where its peer identity is kept (default: ${path.join(defaultDataDir(), 'relay')})
  --listen ADDR           listen multiaddr (repeatable; default /ip4/0.0.0.0/tcp/4001)
  --announce ADDR         address to advertise instead (repeatable), e.g. the public one of a forwarded port
  --limits KIND           per relayed connection: group (default: 4 MiB or 10 minutes), kubo (128 KiB or
                          2 minutes, go-libp2p's defaults) or none (needs --allow, or anyone can use it
                          without limit)
  --allow PEERID          only these co-signer nodes may reserve a slot (repeatable; default: anyone)
  --max-reservations N    reservations held at once (default 64)
  --no-upnp               do not ask the router for a port mapping
`;

const LIMITS: Record<string, RelayLimits | null> = { group: GROUP_RELAY_LIMITS, kubo: KUBO_RELAY_LIMITS, none: null };

async function loadIdentity(dir: string): Promise<PeerIdentity> {
  const file = path.join(dir, 'relay-peer.key');
  try {
    return peerIdentityFromBytes(new Uint8Array(await readFile(file)));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const identity = await generatePeerIdentity(systemRandom);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(file, peerIdentityToBytes(identity), { mode: 0o600, flag: 'wx' });
  return identity;
}

export async function relay(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'data-dir': { type: 'string' },
      listen: { type: 'string', multiple: true },
      announce: { type: 'string', multiple: true },
      limits: { type: 'string', default: 'group' },
      allow: { type: 'string', multiple: true },
      'max-reservations': { type: 'string', default: '64' },
      'no-upnp': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(RELAY_USAGE);
    return;
  }
  if (!(values.limits in LIMITS)) throw new Error('--limits must be group, kubo or none');
  const limits = LIMITS[values.limits]!;
  const allow = values.allow ?? [];
  const maxReservations = Number(values['max-reservations']);
  if (!Number.isInteger(maxReservations) || maxReservations < 1 || maxReservations > 4096)
    throw new Error('--max-reservations must be 1..4096');
  const dataDir = path.resolve(values['data-dir'] ?? path.join(defaultDataDir(), 'relay'));
  const node = await startRelayNode({
    identity: await loadIdentity(dataDir),
    listen: values.listen ?? ['/ip4/0.0.0.0/tcp/4001'],
    ...(values.announce !== undefined ? { announce: values.announce } : {}),
    limits,
    maxReservations,
    allow,
    upnp: !values['no-upnp'],
    clock: systemClock,
    inspectAnnouncement,
  });
  const { libp2p } = node;
  console.log(`Relay peer id: ${libp2p.peerId.toString()}`);
  console.log(
    limits === null
      ? `Limits: none${allow.length === 0 ? ' (WARNING: anyone who finds this relay can use it without limit; see --allow)' : ''}`
      : `Limits per relayed connection: ${limits.dataBytes} bytes or ${limits.durationMs / 1000} s`,
  );
  if (allow.length > 0) console.log(`Reservations only for: ${allow.join(' ')}`);
  for (const a of libp2p.getMultiaddrs()) console.log(`Relay address: ${a.toString()}`);
  console.log('Give co-signers one of these addresses: Settings > Relays, or `cosigner serve --relay ADDR`.');

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping the relay...`);
    await libp2p.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}
