/**
 * The whole stack on 127.0.0.1: real libp2p nodes (TCP, Noise, yamux, signer cards) and one session
 * coordinator each. Measures the time from the last approval to the final signature being held by
 * every signer, two ways on this 2-core machine:
 * - one thread per signer (worker threads), each signer with its own event loop as on its own
 *   machine, all sharing the 2 cores: the realistic figure;
 * - every signer on one thread: the sum of all signers' work, the pessimistic figure.
 * Each session is run as people would run it: the request reaches every signer and the creator's
 * DHT copies for late signers are stored, every other signer approves and their approvals reach
 * everyone, and only then does the last signer approve (the timed part). Two untimed sessions first
 * warm each signer up (a fresh process compiles its code on first use).
 * Then the headless daemon's cold start.
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { connectControl } from '../../main/daemon/control-client.ts';
import type { CreateSessionInput } from '../../main/session/coordinator.ts';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { waitFor } from '../integration/p2p/harness.ts';
import { MemoryRecordStore } from '../support/memory-record-store.ts';
import { startRealCluster } from '../support/real-cluster.ts';
import { startWorkerCluster } from '../support/worker-cluster.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const WARM_UP_SESSIONS = 2;

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** What the timed procedure needs from a set of running signers, whichever way they run. */
interface Signers {
  readonly keys: readonly string[];
  create(input: CreateSessionInput): Promise<string>;
  approve(index: number, sessionId: string): Promise<void>;
  /** Approvals signer `index` has seen (-1 before the request reached it). */
  approvals(index: number, sessionId: string): Promise<number>;
  /** Inbox records the creator (signer 0) has published or failed to. */
  inboxPublished(): Promise<number>;
  allComplete(sessionId: string, timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

async function oneThread(n: number): Promise<Signers> {
  const cluster = await startRealCluster(
    Array.from({ length: n }, (_, i) => `bench-${n}-${i}`),
    () => new MemoryRecordStore(),
  );
  const { nodes, coordinators } = cluster;
  const snapshot = (i: number, id: string) => coordinators[i]!.list().find((s) => s.sessionId === id);
  return {
    keys: cluster.keys.map((k) => bytesToHex(k)),
    create: async (input) => (await coordinators[0]!.createSession(input)).sessionId,
    approve: async (i, id) => void (await coordinators[i]!.approve(id)),
    approvals: async (i, id) => snapshot(i, id)?.signers.filter((s) => s.approved).length ?? -1,
    inboxPublished: async () => {
      const { transport } = nodes[0]!.network.status();
      return transport.inboxRecordsPublished + transport.inboxPublishFailures;
    },
    allComplete: (id, timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        const done = () => coordinators.every((_, i) => snapshot(i, id)?.phase === 'COMPLETE');
        const finish = (error?: Error) => {
          clearTimeout(timer);
          for (const u of unsubscribes) u();
          if (error) reject(error);
          else resolve();
        };
        const timer = setTimeout(() => finish(new Error(`${n} signers: no signature after ${timeoutMs} ms`)), timeoutMs);
        const unsubscribes = coordinators.map((c) => c.on('session', (s) => s.sessionId === id && s.phase === 'COMPLETE' && done() && finish()));
      }),
    stop: () => cluster.stop(),
  };
}

async function threadPerSigner(n: number): Promise<Signers> {
  const cluster = await startWorkerCluster(Array.from({ length: n }, (_, i) => `bench-w-${n}-${i}`));
  return {
    keys: cluster.keys,
    create: async (input) => (await cluster.request(0, 'create', { input })) as string,
    approve: async (i, id) => void (await cluster.request(i, 'approve', { sessionId: id })),
    approvals: async (i, id) => (await cluster.request(i, 'approvals', { sessionId: id })) as number,
    inboxPublished: async () => (await cluster.request(0, 'inboxPublished', {})) as number,
    allComplete: (id, timeoutMs) => cluster.whenAll(id, 'COMPLETE', timeoutMs),
    stop: () => cluster.stop(),
  };
}

async function lastApprovalToSignature(signers: Signers, round: number): Promise<number> {
  const n = signers.keys.length;
  const everyone = Array.from({ length: n }, (_, i) => i);
  const published = await signers.inboxPublished();
  const id = await signers.create({
    signers: [...signers.keys],
    payload: { kind: 'message', message: bytesToHex(new Uint8Array(32).fill((round % 255) + 1)) },
    tweak: 'taproot',
  });
  const seen = async (count: number) => (await Promise.all(everyone.map((i) => signers.approvals(i, id)))).every((a) => a >= count);
  await waitFor('the request at every signer', () => seen(1), 30_000);
  await waitFor("the creator's DHT copies stored", async () => (await signers.inboxPublished()) >= published + n - 1, 30_000);
  for (let i = 1; i < n - 1; i++) await signers.approve(i, id);
  await waitFor('the approvals at every signer', () => seen(n - 1), 30_000);
  const complete = signers.allComplete(id, 30_000);
  const start = performance.now();
  await signers.approve(n - 1, id);
  await complete;
  return performance.now() - start;
}

async function measure(mode: 'thread per signer' | 'one thread', n: number, sessions: number, target: number | null) {
  const signers = mode === 'one thread' ? await oneThread(n) : await threadPerSigner(n);
  try {
    const times: number[] = [];
    for (let round = 0; round < WARM_UP_SESSIONS + sessions; round++) {
      const ms = await lastApprovalToSignature(signers, round);
      if (round >= WARM_UP_SESSIONS) times.push(ms);
    }
    times.sort((a, b) => a - b);
    return {
      signers: n,
      'signers run on': mode,
      sessions,
      'median ms': Number(quantile(times, 0.5).toFixed(1)),
      'p95 ms': Number(quantile(times, 0.95).toFixed(1)),
      'target ms': target ?? '',
    };
  } finally {
    await signers.stop();
  }
}

async function coldStart(dataDir: string, entry: string, keystore: 'file' | 'keychain', whileUp?: (url: string) => Promise<void>): Promise<number> {
  const start = performance.now();
  const profile = path.basename(dataDir).replace(/[^a-zA-Z0-9]/g, '');
  const args = [entry, 'serve', '--data-dir', dataDir, '--keystore', keystore, '--profile', profile, '--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0'];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, COSIGNER_KEYSTORE_PASSPHRASE: 'bench passphrase' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      const open = /Cosigner is running\. Open: (\S+)/.exec(chunk.toString());
      if (open) resolve(open[1]!);
    });
    child.once('exit', (code) => reject(new Error(`daemon exited with ${code}`)));
  });
  const elapsed = performance.now() - start;
  await whileUp?.(url);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
  return elapsed;
}

export default async function bench(): Promise<void> {
  const cases = (process.env.BENCH_QUICK ? [[2, 3, 50]] : [[2, 15, 50], [3, 12, null], [5, 8, null], [10, 8, 500]]) as [number, number, number | null][];
  const rows = [];
  for (const mode of ['thread per signer', 'one thread'] as const) {
    for (const [n, sessions, target] of cases) rows.push(await measure(mode, n, sessions, target));
  }
  console.log('Last approval to the final signature held by every signer (real libp2p nodes on 127.0.0.1, 2 cores):');
  console.table(rows);

  // The OS keychain is there when the bench runs under scripts/with-keyring.sh (npm run bench).
  const keystores = process.env.COSIGNER_TEST_KEYRING === '1' ? (['keychain', 'file'] as const) : (['file'] as const);
  const startRows = [];
  for (const keystore of keystores) {
    for (const entry of ['dist/cli.mjs', 'main/cli.ts']) {
      const dataDir = await mkdtemp(path.join(tmpdir(), 'cosigner-bench-'));
      try {
        // The first start makes the peer identity; a signer key is imported so that later starts
        // also start the libp2p node and the coordinator before they report ready.
        await coldStart(dataDir, entry, keystore, async (url) => {
          const control = await connectControl(url);
          await control.bridge.call('keys.importSecret', { secretHex: bytesToHex(schnorr.utils.randomSecretKey()) });
          control.close();
        });
        const starts: number[] = [];
        for (let i = 0; i < 5; i++) starts.push(await coldStart(dataDir, entry, keystore));
        starts.sort((a, b) => a - b);
        startRows.push({
          keystore: keystore === 'file' ? 'file (scrypt N=2^17 on open)' : 'OS keychain',
          entry: entry === 'dist/cli.mjs' ? 'bundled (npm run headless)' : 'TypeScript sources',
          'median ms': Number(quantile(starts, 0.5).toFixed(0)),
          'target ms': 1500,
        });
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    }
  }
  console.log('Headless daemon cold start with a signer key (keystore, node and coordinator up): spawn to "Cosigner is running", median of 5:');
  console.table(startRows);
}
