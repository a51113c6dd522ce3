/**
 * The whole stack on 127.0.0.1: real libp2p nodes (TCP, Noise, yamux, signer cards) and one session
 * coordinator each, in one process on this 2-core machine. Measures the time from the last
 * approval to the final signature being held by every signer, and the headless daemon's cold start.
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { connectControl } from '../../main/daemon/control-client.ts';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { waitFor } from '../integration/p2p/harness.ts';
import { MemoryRecordStore } from '../support/memory-record-store.ts';
import { startRealCluster } from '../support/real-cluster.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function lastApprovalToSignature(n: number, rounds: number): Promise<number[]> {
  const cluster = await startRealCluster(
    Array.from({ length: n }, (_, i) => `bench-${n}-${i}`),
    () => new MemoryRecordStore(),
  );
  const { keys, coordinators } = cluster;
  try {
    const times: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const created = await coordinators[0]!.createSession({
        signers: keys.map((k) => bytesToHex(k)),
        payload: { kind: 'message', message: bytesToHex(new Uint8Array(32).fill(r + 1)) },
        tweak: 'taproot',
      });
      const id = created.sessionId;
      const others = coordinators.slice(1);
      await waitFor('the request everywhere', () => others.every((c) => c.list().some((s) => s.sessionId === id)), 30_000);
      for (const c of others.slice(0, -1)) await c.approve(id);
      const done = () => coordinators.every((c) => c.list().find((s) => s.sessionId === id)?.phase === 'COMPLETE');
      const start = performance.now();
      await others.at(-1)!.approve(id);
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${n} signers: no signature after 30 s`)), 30_000);
        const unsubscribes = coordinators.map((c) =>
          c.on('session', () => {
            if (!done()) return;
            clearTimeout(timer);
            for (const u of unsubscribes) u();
            resolve();
          }),
        );
        if (done()) {
          clearTimeout(timer);
          for (const u of unsubscribes) u();
          resolve();
        }
      });
      times.push(performance.now() - start);
    }
    return times;
  } finally {
    await cluster.stop();
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
  const rows = [];
  for (const [n, rounds, target] of (process.env.BENCH_QUICK ? [[2, 2, 50]] : [[2, 15, 50], [3, 12, null], [5, 8, null], [10, 5, 500]]) as [number, number, number | null][]) {
    const times = (await lastApprovalToSignature(n, rounds)).sort((a, b) => a - b);
    rows.push({
      signers: n,
      sessions: rounds,
      'median ms': Number(quantile(times, 0.5).toFixed(1)),
      'p95 ms': Number(quantile(times, 0.95).toFixed(1)),
      'target ms': target ?? '',
    });
  }
  console.log('Last approval to the final signature held by every signer (real libp2p nodes on 127.0.0.1, one process):');
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
