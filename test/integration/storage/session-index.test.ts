/**
 * The session index and retention on real files: the index is repaired from the records whatever
 * happened to it, deletions never take an open or a recent session, and failures are counted.
 */
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileRecordStore } from '../../../main/storage/record-store.ts';
import { CountingRecordStore } from '../../support/counting-record-store.ts';
import { MemoryRecordStore } from '../../support/memory-record-store.ts';
import { Cluster, floodOfDeclined as flood } from '../../support/session-cluster.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const options = { sessionTimeoutMs: 30 * MIN, defaultSessionTtlMs: 10 * MIN, cleanupIntervalMs: HOUR };

async function onFiles(seed: string): Promise<{ c: Cluster; dir: string; reopen: () => Promise<CountingRecordStore> }> {
  const dir = await mkdtemp(join(tmpdir(), 'cosigner-index-'));
  dirs.push(dir);
  const reopen = async () => new CountingRecordStore(await FileRecordStore.open(dir));
  const first = await reopen();
  const c = new Cluster(2, { seed, options, stores: (i) => (i === 1 ? first : new MemoryRecordStore()) });
  await c.start();
  return { c, dir, reopen };
}

describe('session index', () => {
  it('rebuilds an unreadable index from the records and counts it; a missing one is rebuilt silently', async () => {
    const { c, dir, reopen } = await onFiles('index-corrupt');
    const ids = await flood(c, 5, HOUR);
    await c.nodes[1]!.coordinator.cleanup();
    await writeFile(join(dir, 'session-index.json'), '{"format":1,"entries":[{"sessionId":"nonsense"}]}');
    let store = await reopen();
    let node = await c.restart(c.nodes[1]!, store);
    expect(store.reads).toBe(1 + 5);
    expect(node.health().corruptRecords).toBe(1);
    expect((await node.history()).sessions.map((s) => s.sessionId)).toEqual([...ids].reverse());
    // The start's sweep saved the rebuilt index: the next start reads it alone.
    store = await reopen();
    node = await c.restart(c.nodes[1]!, store);
    expect(store.reads).toBe(1);
    expect(node.health().corruptRecords).toBe(0);
    await unlink(join(dir, 'session-index.json'));
    store = await reopen();
    node = await c.restart(c.nodes[1]!, store);
    expect(store.reads).toBe(1 + 5);
    expect(node.health().corruptRecords).toBe(0);
    expect((await node.history()).sessions).toHaveLength(5);
  });

  it('repairs an index saved before a crash: records it lacks are read, lines without a record dropped', async () => {
    const { c, dir, reopen } = await onFiles('index-stale');
    const ids = await flood(c, 4, HOUR);
    // Two more sessions end after the last sweep saved the index; then the process dies.
    const late = [...(await flood(c, 2, MIN))];
    await unlink(join(dir, `${ids[0]}.json`));
    const store = await reopen();
    const node = await c.restart(c.nodes[1]!, store);
    expect((await node.history()).sessions.map((s) => s.sessionId)).toEqual([...ids.slice(1), ...late].reverse());
    expect(node.health()).toMatchObject({ storedSessions: 5, corruptRecords: 0 });
  });
});

describe('retention', () => {
  it('applies at start: the oldest ended records beyond the count go, none within the replay horizon', async () => {
    let maxStoredRecords = 1000;
    const c = new Cluster(2, { seed: 'retain-start', options, nodeOptions: () => ({ maxStoredRecords }) });
    await c.start();
    const ids = await flood(c, 12, DAY);
    const store = c.nodes[1]!.store as MemoryRecordStore;
    expect((await store.keys()).filter((k) => k !== 'session-index')).toHaveLength(12);
    maxStoredRecords = 5;
    const node = await c.restart(c.nodes[1]!);
    // Ages 1..12 days: 5 kept by the count, the one 6 days old by the 7-day horizon, six deleted.
    expect((await store.keys()).filter((k) => k !== 'session-index').sort()).toEqual(ids.slice(6).sort());
    expect((await node.history()).sessions.map((s) => s.sessionId)).toEqual(ids.slice(6).reverse());
    expect(node.health().storedSessions).toBe(6);
  });

  it('counts a failing deletion in health, keeps the record and its line, and tries again at the next sweep', async () => {
    const store = new CountingRecordStore(new MemoryRecordStore());
    const c = new Cluster(2, {
      seed: 'retain-fail',
      options: { ...options, maxStoredRecords: 1 },
      stores: (i) => (i === 1 ? store : new MemoryRecordStore()),
    });
    await c.start();
    store.failDeletes = true;
    await flood(c, 10, DAY);
    const node = c.nodes[1]!.coordinator;
    expect(node.health().sweepFailures).toBeGreaterThan(0);
    expect(await store.sessionKeys()).toHaveLength(10);
    expect(node.health().storedSessions).toBe(10);
    store.failDeletes = false;
    const report = await node.sweep();
    expect(report.deleted).toBe(4); // 7 to 10 days old: the younger ones are within the replay horizon
    expect(await store.sessionKeys()).toHaveLength(6);
    expect(node.health().storedSessions).toBe(6);
  });
});
