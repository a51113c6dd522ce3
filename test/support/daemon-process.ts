/**
 * Real `cosigner serve` processes for end-to-end tests: file keystores in temporary data dirs,
 * loopback only, no mDNS. The test drives them only through what a user or script has: the UI in
 * a browser, or the WebSocket control API.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connectControl, type ControlClient } from '../../main/daemon/control-client.ts';

export const ROOT = path.resolve(import.meta.dirname, '../..');

export interface Daemon {
  name: string;
  url: string;
  port: number;
  token: string;
  peerId: string;
  listenPort: number;
  dataDir: string;
  child: ChildProcess;
  log: string[];
  /** Multiaddr other daemons bootstrap from. */
  multiaddr: string;
}

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
  bootstrap?: Daemon[];
  extraArgs?: string[];
  /** Shown on the signer card; without it the daemon falls back to the key's fingerprint. */
  displayName?: string;
  dataDir?: string;
}

export async function startDaemon(name: string, options: StartOptions = {}): Promise<Daemon> {
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(tmpdir(), `cosigner-${name.toLowerCase()}-`)));
  const listenPort = await freePort();
  const args = ['main/cli.ts', 'serve', '--data-dir', dataDir, '--keystore', 'file', '--no-mdns', '--network', 'regtest'];
  args.push('--listen', `/ip4/127.0.0.1/tcp/${listenPort}`);
  if (options.displayName !== undefined) args.push('--display-name', options.displayName);
  for (const b of options.bootstrap ?? []) args.push('--bootstrap', b.multiaddr);
  args.push(...(options.extraArgs ?? []));
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, COSIGNER_KEYSTORE_PASSPHRASE: `e2e ${name} passphrase` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log: string[] = [];
  return new Promise((resolve, reject) => {
    let peerId = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${log.join('')}`)), 30_000);
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      log.push(text);
      if (log.length > 500) log.splice(0, log.length - 500);
      peerId ||= /Peer id: (\S+)/.exec(text)?.[1] ?? '';
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
          listenPort,
          dataDir,
          child,
          log,
          multiaddr: `/ip4/127.0.0.1/tcp/${listenPort}/p2p/${peerId}`,
        });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}:\n${log.join('')}`));
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

/** Two daemons, B bootstrapping from A, each with a control-API client. */
export interface DaemonPair {
  a: Daemon;
  b: Daemon;
  ca: ControlClient;
  cb: ControlClient;
  /** Stops A cleanly (asserting exit code 0) and starts it again on the same data dir. */
  restartA(): Promise<void>;
  /** Closes the clients, stops both daemons and removes their data dirs. */
  stop(): Promise<void>;
}

export async function startDaemonPair(nameA: string, nameB: string): Promise<DaemonPair> {
  const a = await startDaemon(nameA);
  const b = await startDaemon(nameB, { bootstrap: [a] });
  const pair: DaemonPair = {
    a,
    b,
    ca: await connectControl(a.url),
    cb: await connectControl(b.url),
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
