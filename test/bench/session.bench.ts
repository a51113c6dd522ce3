/**
 * Wall time from the last approval to the final signature on every node, for whole sessions between
 * real coordinators in one process (in-process transport with 1 ms of fake latency per frame, so what is
 * measured is the nodes' own work: verification, MuSig2, storage). All nodes share one CPU here, so the
 * time is the sum of every node's work; on separate machines each does about 1/n of it.
 * "memory" keeps records in memory; "files" writes them atomically (fsync) to a temp directory.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileRecordStore } from '../../main/storage/record-store.ts';
import { Cluster } from '../support/session-cluster.ts';

async function run(size: number, messages: number, files: boolean): Promise<{ ms: number; frames: number }> {
  const root = files ? await mkdtemp(join(tmpdir(), 'cosigner-bench-')) : undefined;
  try {
    const stores = root ? await Promise.all(Array.from({ length: size }, (_, i) => FileRecordStore.open(join(root, `n${i}`)))) : undefined;
    const c = new Cluster(size, { seed: `bench-${size}`, ...(stores ? { stores: (i: number) => stores[i]! } : {}) });
    await c.start();
    const items = Array.from({ length: messages }, (_, i) => ({ message: (i + 1).toString(16).padStart(64, '0'), label: `input ${i}` }));
    const s = await c.create(0, { payload: { kind: 'batch', items } });
    await c.runUntil(() => c.nodes.slice(1).every((n) => n.requests.length === 1));
    for (const n of c.nodes.slice(1, -1)) await n.coordinator.approve(s.sessionId);
    const framesBefore = c.net.log.length;
    const t0 = performance.now();
    await c.nodes.at(-1)!.coordinator.approve(s.sessionId);
    if (!(await c.runUntilPhase(s.sessionId, ['COMPLETE']))) throw new Error('session did not complete');
    return { ms: performance.now() - t0, frames: c.net.log.length - framesBefore };
  } finally {
    if (root) await rm(root, { recursive: true, force: true });
  }
}

export default async function bench(): Promise<void> {
  await run(2, 1, false); // warm-up
  const rows = [];
  for (const size of [2, 3, 5, 10]) {
    for (const messages of [1, 10]) {
      const memory = await run(size, messages, false);
      const files = await run(size, messages, true);
      rows.push({
        signers: size,
        messages,
        'memory ms': Math.round(memory.ms),
        'files ms': Math.round(files.ms),
        'ms per node (memory)': Math.round(memory.ms / size),
        frames: memory.frames,
      });
    }
  }
  console.table(rows);
}
