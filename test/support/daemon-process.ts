/**
 * Real `cosigner serve` processes for end-to-end tests: file keystores in temporary data dirs,
 * loopback only, no mDNS. The test drives them only through what a user or script has: the UI in
 * a browser, or the WebSocket control API.
 *
 * Every port is chosen by the OS when the daemon binds it (port 0) and read back from what the
 * daemon prints, so parallel test files cannot be handed the same port. The p2p node starts only
 * once a key exists, so its address is known only then: `nodeAddress()` waits for it, and a daemon
 * that bootstraps from another is started (or given it in its settings) after that one has a key.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bytesToHex } from '@noble/hashes/utils.js';
import { connectControl, type ControlClient } from '../../main/daemon/control-client.ts';
import type { KeyInfo } from '../../preload/contract.ts';

export const ROOT = path.resolve(import.meta.dirname, '../..');

export interface Daemon {
  name: string;
  url: string;
  port: number;
  token: string;
  peerId: string;
  dataDir: string;
  child: ChildProcess;
  log: string[];
  /** The multiaddr others bootstrap from, once the node listens (it starts when the daemon has a key). */
  nodeAddress(): Promise<string>;
}

/** How long a daemon may take to start its node once it has a key, on a loaded machine. */
const NODE_START_MS = 30_000;

/**
 * A port that was free a moment ago. Only for a port that must be known before its process starts
 * (test/support/nat-daemons.ts forwards it into a network namespace): another process may take it
 * meanwhile, so use port 0 and read the port back wherever the process can say it.
 */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface StartOptions {
  /** Daemons to bootstrap from: each must have a key (its node running), or be about to get one. */
  bootstrap?: Daemon[];
  extraArgs?: string[];
  /** Shown on the signer card; without it the daemon falls back to the key's fingerprint. */
  displayName?: string;
  dataDir?: string;
}

export async function startDaemon(name: string, options: StartOptions = {}): Promise<Daemon> {
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(tmpdir(), `cosigner-${name.toLowerCase()}-`)));
  const args = ['main/cli.ts', 'serve', '--data-dir', dataDir, '--keystore', 'file', '--no-mdns', '--network', 'regtest'];
  args.push('--listen', '/ip4/127.0.0.1/tcp/0');
  if (options.displayName !== undefined) args.push('--display-name', options.displayName);
  for (const b of options.bootstrap ?? []) args.push('--bootstrap', await b.nodeAddress());
  args.push(...(options.extraArgs ?? []));
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, COSIGNER_KEYSTORE_PASSPHRASE: `e2e ${name} passphrase` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log: string[] = [];
  // The node's address, printed once it listens ("Node listening on: ...", main/cli.ts).
  let nodeListening: (address: string) => void = () => {};
  let nodeFailed: (error: Error) => void = () => {};
  const listening = new Promise<string>((resolve, reject) => {
    nodeListening = resolve;
    nodeFailed = reject;
  });
  // Awaited only by those that ask; an exit before then is reported by startDaemon itself.
  listening.catch(() => undefined);
  const nodeAddress = async (): Promise<string> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${name}'s node did not listen within ${NODE_START_MS} ms (has it a key?):\n${log.join('')}`)),
        NODE_START_MS,
      );
    });
    try {
      return await Promise.race([listening, late]);
    } finally {
      clearTimeout(timer);
    }
  };
  return new Promise((resolve, reject) => {
    let peerId = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${log.join('')}`)), 30_000);
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      log.push(text);
      if (log.length > 500) log.splice(0, log.length - 500);
      peerId ||= /Peer id: (\S+)/.exec(text)?.[1] ?? '';
      const address = /Node listening on: .*?(\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/\S+)/.exec(text)?.[1];
      if (address !== undefined) nodeListening(address);
      const url = /Open: (\S+)/.exec(text)?.[1];
      if (url) {
        clearTimeout(timer);
        const parsed = new URL(url);
        resolve({
          name,
          url,
          port: Number(parsed.port),
          token: new URLSearchParams(parsed.hash.slice(1)).get('token') ?? '',
          peerId,
          dataDir,
          child,
          log,
          nodeAddress,
        });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      const exited = new Error(`${name} exited with ${code}:\n${log.join('')}`);
      nodeFailed(exited);
      reject(exited);
    });
  });
}

/** SIGTERM, then wait for the clean shutdown; resolves with the exit code. */
export async function stopDaemon(daemon: Daemon): Promise<number | null> {
  if (daemon.child.exitCode !== null) return daemon.child.exitCode;
  const exited = new Promise<number | null>((resolve) => daemon.child.once('exit', (code) => resolve(code)));
  daemon.child.kill('SIGTERM');
  return exited;
}

export async function removeDataDir(daemon: Daemon): Promise<void> {
  await rm(daemon.dataDir, { recursive: true, force: true });
}

/** Two daemons, each with a control-API client; B bootstraps from A once `importKeys` gave them keys. */
export interface DaemonPair {
  a: Daemon;
  b: Daemon;
  ca: ControlClient;
  cb: ControlClient;
  /** Imports A's key, waits for A's node, gives B A's address to bootstrap from, then imports B's key. */
  importKeys(secretA: Uint8Array, secretB: Uint8Array): Promise<[KeyInfo, KeyInfo]>;
  /** Stops A cleanly (asserting exit code 0) and starts it again on the same data dir. */
  restartA(): Promise<void>;
  /** Closes the clients, stops both daemons and removes their data dirs. */
  stop(): Promise<void>;
}

export async function startDaemonPair(nameA: string, nameB: string): Promise<DaemonPair> {
  const a = await startDaemon(nameA);
  const b = await startDaemon(nameB);
  const pair: DaemonPair = {
    a,
    b,
    ca: await connectControl(a.url),
    cb: await connectControl(b.url),
    async importKeys(secretA, secretB) {
      const keyA = await pair.ca.bridge.call('keys.importSecret', { secretHex: bytesToHex(secretA) });
      // B's node starts with its key, and reads its bootstrap peers from the settings then.
      await pair.cb.bridge.call('settings.set', { bootstrapPeers: [await pair.a.nodeAddress()] });
      const keyB = await pair.cb.bridge.call('keys.importSecret', { secretHex: bytesToHex(secretB) });
      return [keyA, keyB];
    },
    async restartA() {
      pair.ca.close();
      const code = await stopDaemon(pair.a);
      if (code !== 0) throw new Error(`${nameA} exited with ${code}:\n${pair.a.log.join('')}`);
      pair.a = await startDaemon(nameA, { dataDir: pair.a.dataDir });
      pair.ca = await connectControl(pair.a.url);
    },
    async stop() {
      pair.ca.close();
      pair.cb.close();
      for (const d of [pair.a, pair.b]) {
        await stopDaemon(d);
        await removeDataDir(d);
      }
    },
  };
  return pair;
}
