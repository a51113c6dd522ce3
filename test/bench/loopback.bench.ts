/**
 * The whole stack on 127.0.0.1: real libp2p nodes (TCP, Noise, yamux, signer cards) and one session
 * coordinator each. Measures the time from the last approval to the final signature being held by
 * every signer, two ways on this 2-core machine:
 * - one thread per signer (worker threads): each signer has its own event loop, as on its own
 *   machine, but all share the 2 cores, so with 10 signers each waits for a core in turn;
 * - every signer on one thread: the sum of all signers' work, each step waiting for the others.
 * Each session is run as people would run it: the request reaches every signer and the creator's
 * DHT copies for late signers are stored, every other signer approves and their approvals reach
 * everyone, and only then does the last signer approve (the timed part). Two untimed sessions first
 * warm each signer up (a fresh process compiles its code on first use).
 * Then the headless daemon's cold start.
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { connectControl } from '../../main/daemon/control-client.ts';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { lastApprovalToCompletion, startSigners, type SignerThreads } from '../support/bench-signers.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const WARM_UP_SESSIONS = 2;

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function measure(threads: SignerThreads, n: number, sessions: number, target: number | null) {
  const signers = await startSigners(
    threads,
    Array.from({ length: n }, (_, i) => `bench-${n}-${i}`),
  );
  try {
    const times: number[] = [];
    for (let round = 0; round < WARM_UP_SESSIONS + sessions; round++) {
      const { lastApprovalMs } = await lastApprovalToCompletion(signers, {
        signers: [...signers.keys],
        payload: { kind: 'message', message: bytesToHex(new Uint8Array(32).fill((round % 255) + 1)) },
        tweak: 'taproot',
      });
      if (round >= WARM_UP_SESSIONS) times.push(lastApprovalMs);
    }
    times.sort((a, b) => a - b);
    return {
      signers: n,
      'signers run on': threads,
      sessions,
      'median ms': Number(quantile(times, 0.5).toFixed(1)),
      'p95 ms': Number(quantile(times, 0.95).toFixed(1)),
      'target ms': target ?? '',
    };
  } finally {
    await signers.stop();
  }
}

async function coldStart(
  dataDir: string,
  entry: string,
  keystore: 'file' | 'keychain',
  whileUp?: (url: string) => Promise<void>,
): Promise<number> {
  const start = performance.now();
  const profile = path.basename(dataDir).replace(/[^a-zA-Z0-9]/g, '');
  const args = [
    entry,
    'serve',
    '--data-dir',
    dataDir,
    '--keystore',
    keystore,
    '--profile',
    profile,
    '--no-mdns',
    '--listen',
    '/ip4/127.0.0.1/tcp/0',
  ];
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
  const cases = (
    process.env.BENCH_QUICK
      ? [[2, 3, 50]]
      : [
          [2, 15, 50],
          [3, 12, null],
          [5, 8, null],
          [10, 8, 500],
        ]
  ) as [number, number, number | null][];
  const rows = [];
  for (const threads of ['thread per signer', 'one thread'] as const) {
    for (const [n, sessions, target] of cases) rows.push(await measure(threads, n, sessions, target));
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
  console.log(
    'Headless daemon cold start with a signer key (keystore, node and coordinator up): spawn to "Cosigner is running", median of 5:',
  );
  console.table(startRows);
}
