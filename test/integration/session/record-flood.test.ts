/**
 * Record flood: every accepted request is stored, so a co-signer that keeps sending requests (or
 * simply years of use) must not grow the disk without bound, and listing history must not re-read
 * and re-verify every stored session (measured before the fix: one session's round trip through the
 * API grew from 184 ms to 719 ms over 400 sessions with a client that lists history).
 * Reads are counted through the store port, not timed: the machine's load does not change a count.
 */
import { describe, expect, it } from 'vitest';
import type { CoordinatorOptions } from '../../../main/session/limits.ts';
import { CountingRecordStore } from '../../support/counting-record-store.ts';
import { MemoryRecordStore } from '../../support/memory-record-store.ts';
import { Cluster, floodOfDeclined as flood } from '../../support/session-cluster.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

function countingCluster(seed: string, options: Partial<CoordinatorOptions>): { c: Cluster; stores: CountingRecordStore[] } {
  const stores: CountingRecordStore[] = [];
  const c = new Cluster(2, {
    seed,
    options: { sessionTimeoutMs: 30 * MIN, defaultSessionTtlMs: 10 * MIN, cleanupIntervalMs: HOUR, ...options },
    stores: (i) => (stores[i] = new CountingRecordStore(new MemoryRecordStore())),
  });
  return { c, stores };
}

describe('record flood', () => {
  it('keeps at most maxStoredRecords ended sessions and lists history from the index, reading no record', async () => {
    const { c, stores } = countingCluster('record-flood', { maxStoredRecords: 100 });
    await c.start();
    // 300 sessions, 2 hours apart: 25 days, of which the last 7 (84 sessions) are within the replay horizon.
    const ids = await flood(c, 300, 2 * HOUR);
    for (const store of stores) {
      const kept = await store.sessionKeys();
      expect(kept.length).toBeLessThanOrEqual(100);
      // The newest are the ones kept.
      expect(kept.sort()).toEqual(ids.slice(-kept.length).sort());
    }
    const node = c.nodes[1]!.coordinator;
    const store = stores[1]!;
    store.reads = 0;
    const first = await node.history({ limit: 50 });
    expect(first.sessions.map((s) => s.sessionId)).toEqual(ids.slice(-50).reverse());
    expect(first.sessions[0]).toMatchObject({ phase: 'DECLINED', description: 'request 299', creator: c.nodes[0]!.signer.hex });
    const second = await node.history({ cursor: first.next!, limit: 50 });
    expect(second.sessions.map((s) => s.sessionId)).toEqual(ids.slice(-100, -50).reverse());
    expect(second.next === null || (await node.history({ cursor: second.next, limit: 50 })).sessions.length === 0).toBe(true);
    expect(store.reads).toBe(0);
    // Opening one session reads (and verifies) that one record.
    expect(await node.get(ids[250]!)).toMatchObject({ phase: 'DECLINED', description: 'request 250' });
    expect(store.reads).toBe(1);
  });

  it('restarts reading the index and only the records of open or recent sessions', async () => {
    const { c, stores } = countingCluster('record-flood-restart', { maxStoredRecords: 1000 });
    await c.start();
    await flood(c, 60, 2 * HOUR);
    await c.nodes[1]!.coordinator.cleanup();
    const store = stores[1]!;
    store.reads = 0;
    const again = await c.restart(c.nodes[1]!);
    // 60 stored, none open, none within the 30-minute session timeout: the index alone.
    expect(store.reads).toBe(1);
    expect((await again.history({ limit: 100 })).sessions).toHaveLength(60);
    expect(again.health().corruptRecords).toBe(0);
  });

  it('history costs the same reads with 50 and with 400 sessions stored; prints the round trip', async () => {
    const { c, stores } = countingCluster('record-flood-flat', { maxStoredRecords: 1000 });
    await c.start();
    const store = stores[1]!;
    const node = c.nodes[1]!.coordinator;
    const costs: { stored: number; reads: number; historyMs: number; roundTripMs: number }[] = [];
    for (const target of [50, 400]) {
      await flood(c, target - (await store.sessionKeys()).length, 10 * MIN);
      // One round trip as a client that lists history sees it: request, decision, history page.
      const t0 = performance.now();
      const s = await c.create(0, { description: 'measured' });
      await c.runUntil(() => c.nodes[1]!.requests.some((r) => r.sessionId === s.sessionId));
      await node.decline(s.sessionId, 'no');
      store.reads = 0;
      const h0 = performance.now();
      const page = await node.history({ limit: 50 });
      const historyMs = performance.now() - h0;
      costs.push({ stored: (await store.sessionKeys()).length, reads: store.reads, historyMs, roundTripMs: performance.now() - t0 });
      expect(page.sessions).toHaveLength(50);
      expect(page.sessions[0]!.sessionId).toBe(s.sessionId);
    }
    console.log(
      'record flood: history(limit 50) as history grows\n' +
        costs
          .map(
            (x) =>
              `  ${x.stored} stored: ${x.reads} reads, history ${x.historyMs.toFixed(1)} ms, round trip ${x.roundTripMs.toFixed(1)} ms`,
          )
          .join('\n'),
    );
    expect(costs.map((x) => x.reads)).toEqual([0, 0]);
  });
});
