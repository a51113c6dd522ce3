/**
 * The whole stack on 127.0.0.1: real libp2p nodes (TCP, Noise, yamux, signer cards) and one session
 * coordinator each, in one process on this 2-core machine. Measures the time from the last
 * approval to the final signature being held by every signer, and the headless daemon's cold start.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspectAnnouncement } from '../../main/session/announcement.ts';
import { SessionCoordinator } from '../../main/session/coordinator.ts';
import { createSystemScheduler, systemClock, systemRandom } from '../../main/system-ports.ts';
import { startNode, stopAll, waitFor, type TestNode } from '../integration/p2p/harness.ts';
import { MemoryRecordStore } from '../support/memory-record-store.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function lastApprovalToSignature(n: number, rounds: number): Promise<number[]> {
  const nodes: TestNode[] = [];
  const coordinators: SessionCoordinator[] = [];
  try {
    nodes.push(await startNode(`bench-${n}-0`, { inspectAnnouncement }));
    for (let i = 1; i < n; i++) nodes.push(await startNode(`bench-${n}-${i}`, { inspectAnnouncement, bootstrap: [nodes[0]!.addr] }));
    const keys = nodes.map((node) => node.signer.publicKey);
    await waitFor('cards everywhere', () => nodes.every((node) => keys.every((k) => node.network.transport.peerOf(k) !== undefined)), 60_000);
    for (const node of nodes) {
      const c = new SessionCoordinator({
        clock: systemClock,
        scheduler: createSystemScheduler(),
        random: systemRandom,
        transport: node.network.transport,
        store: new MemoryRecordStore(),
        signer: node.signer,
      });
      await c.start();
      coordinators.push(c);
    }
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
    for (const c of coordinators) await c.cleanup();
    await stopAll(nodes);
  }
}

async function coldStart(dataDir: string): Promise<number> {
  const start = performance.now();
  const child = spawn(process.execPath, ['main/cli.ts', 'serve', '--data-dir', dataDir, '--keystore', 'file', '--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0'], {
    cwd: ROOT,
    env: { ...process.env, COSIGNER_KEYSTORE_PASSPHRASE: 'bench passphrase' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('Cosigner is running')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`daemon exited with ${code}`)));
  });
  const elapsed = performance.now() - start;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
  return elapsed;
}

export default async function bench(): Promise<void> {
  const rows = [];
  for (const [n, rounds, target] of [[2, 15, 50], [3, 12, null], [5, 8, null], [10, 5, 500]] as const) {
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

  const dataDir = await mkdtemp(path.join(tmpdir(), 'cosigner-bench-'));
  try {
    const first = await coldStart(dataDir); // makes the peer identity and the key file
    const starts: number[] = [];
    for (let i = 0; i < 5; i++) starts.push(await coldStart(dataDir));
    starts.sort((a, b) => a - b);
    console.log('Headless daemon, process spawn to "Cosigner is running" (file keystore, no signer key yet):');
    console.table([
      { case: 'first start (new identity, key file written: one scrypt)', ms: Number(first.toFixed(0)) },
      { case: 'later starts, median of 5 (key file opened: one scrypt)', ms: Number(quantile(starts, 0.5).toFixed(0)), 'target ms': 1500 },
    ]);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}
