/**
 * `cosigner relay` and `cosigner serve` processes inside the namespaces of a NatTopology, the
 * daemons driven through their control API (forwarded to the host's loopback).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connectControl, type ControlClient } from '../../main/daemon/control-client.ts';
import { freePort, ROOT } from './daemon-process.ts';
import type { NatTopology, NsProcess } from './nat-topology.ts';

const CLI = path.join(ROOT, 'main', 'cli.ts');
const PUBLIC_NODE = path.join(ROOT, 'test', 'support', 'public-ipfs-node.ts');

export interface NatRun {
  /** Temporary data dirs, removed by cleanup(). */
  readonly dirs: string[];
  readonly clients: ControlClient[];
  /** Every daemon's output, for failure messages. */
  readonly logs: string[][];
  cleanup(): Promise<void>;
}

export function natRun(topo: () => NatTopology | undefined): NatRun {
  const run: NatRun = {
    dirs: [],
    clients: [],
    logs: [],
    async cleanup() {
      for (const c of run.clients) c.close();
      await topo()?.teardown();
      await Promise.all(run.dirs.map((d) => rm(d, { recursive: true, force: true })));
    },
  };
  return run;
}

/**
 * Starts a stand-in for a public IPFS node (test/support/public-ipfs-node.ts: Amino DHT server and a
 * relay with kubo's limits) on ip:4001 in `ns`, dialling `peers`; resolves with its address.
 */
export async function startPublicNode(
  topo: NatTopology,
  run: NatRun,
  ns: string,
  ip: string,
  peers: readonly string[] = [],
): Promise<string> {
  const proc = topo.spawnIn(ns, process.execPath, [PUBLIC_NODE, `/ip4/${ip}/tcp/4001`, ...peers]);
  run.logs.push(proc.log);
  return (await proc.waitFor(new RegExp(`Public node address: (/ip4/${ip.replaceAll('.', '\\.')}/tcp/4001/p2p/\\S+)`), 30_000))[1]!;
}

/** Starts `cosigner relay` on ip:4001 in `ns`; resolves with its address and process. */
export async function startNatRelay(
  topo: NatTopology,
  run: NatRun,
  ns: string,
  ip: string,
  limits: 'kubo' | 'group' | 'none',
): Promise<{ address: string; process: NsProcess }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'cosigner-relay-'));
  run.dirs.push(dir);
  const proc = topo.spawnIn(ns, process.execPath, [
    CLI,
    'relay',
    '--data-dir',
    dir,
    '--listen',
    `/ip4/${ip}/tcp/4001`,
    '--limits',
    limits,
    '--no-upnp',
  ]);
  run.logs.push(proc.log);
  const address = (await proc.waitFor(new RegExp(`Relay address: (/ip4/${ip.replaceAll('.', '\\.')}/tcp/4001/p2p/\\S+)`), 30_000))[1]!;
  return { address, process: proc };
}

/**
 * Starts `cosigner serve` in a home namespace, knowing only the relays (and whatever `extraArgs`
 * add, e.g. `--public-bootstrap`); resolves with its control client.
 */
export async function startNatDaemon(
  topo: NatTopology,
  run: NatRun,
  ns: string,
  name: string,
  relays: readonly string[],
  extraArgs: readonly string[] = [],
): Promise<ControlClient> {
  const dataDir = await mkdtemp(path.join(tmpdir(), `cosigner-${name.toLowerCase()}-`));
  run.dirs.push(dataDir);
  // The control API listens on 127.0.0.1 inside the home; the same port on the host's loopback is
  // forwarded to it, so the Host header the daemon checks matches.
  const port = await freePort();
  const args = [
    CLI,
    'serve',
    '--data-dir',
    dataDir,
    '--keystore',
    'file',
    '--no-mdns',
    '--network',
    'regtest',
    '--display-name',
    name,
    '--port',
    String(port),
    '--listen',
    '/ip4/0.0.0.0/tcp/4001',
  ];
  for (const r of relays) args.push('--relay', r, '--bootstrap', r);
  args.push(...extraArgs);
  const daemon = topo.spawnIn(ns, process.execPath, args, { ...process.env, COSIGNER_KEYSTORE_PASSPHRASE: `nat ${name} passphrase` });
  run.logs.push(daemon.log);
  const url = (await daemon.waitFor(/Open: (\S+)/, 30_000))[1]!;
  await topo.forwardLoopback(ns, port);
  const client = await connectControl(url);
  run.clients.push(client);
  return client;
}
