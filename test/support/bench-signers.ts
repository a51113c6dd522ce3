/**
 * A set of running signers for the benches, either each on its own worker thread (its own event
 * loop, as on its own machine; test/support/worker-cluster.ts) or all on this thread
 * (test/support/real-cluster.ts), and the timed procedure they share: one session run as people
 * would run it, timed from the last approval to every signer holding the result.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import type { BitcoinNetwork } from '../../preload/contract.ts';
import type { CreateSessionInput } from '../../main/session/coordinator.ts';
import { GroupKeysCache } from '../../main/session/psbt-session.ts';
import type { SessionSnapshot } from '../../main/session/snapshot.ts';
import { waitFor } from '../integration/p2p/harness.ts';
import { MemoryRecordStore } from './memory-record-store.ts';
import { startRealCluster } from './real-cluster.ts';
import { startWorkerCluster } from './worker-cluster.ts';

export type SignerThreads = 'thread per signer' | 'one thread';

export interface Signers {
  readonly keys: readonly string[];
  create(input: CreateSessionInput): Promise<string>;
  approve(index: number, sessionId: string): Promise<void>;
  /** Approvals signer `index` has seen (-1 before the request reached it). */
  approvals(index: number, sessionId: string): Promise<number>;
  /** Inbox records the creator (signer 0) has published or failed to. */
  inboxPublished(): Promise<number>;
  allComplete(sessionId: string, timeoutMs: number): Promise<void>;
  snapshot(index: number, sessionId: string): Promise<SessionSnapshot | null>;
  stop(): Promise<void>;
}

/** `bitcoinNetwork` makes PSBT signers, each with a group-keys cache of its own, as on separate machines. */
export function startSigners(
  threads: SignerThreads,
  labels: readonly string[],
  options: { bitcoinNetwork?: BitcoinNetwork } = {},
): Promise<Signers> {
  return threads === 'one thread' ? oneThread(labels, options) : threadPerSigner(labels, options);
}

async function oneThread(labels: readonly string[], options: { bitcoinNetwork?: BitcoinNetwork }): Promise<Signers> {
  const { bitcoinNetwork } = options;
  const cluster = await startRealCluster(
    labels,
    () => new MemoryRecordStore(),
    () => (bitcoinNetwork ? { groupKeys: new GroupKeysCache(), options: { bitcoinNetwork } } : {}),
  );
  const { nodes, coordinators } = cluster;
  const find = (i: number, id: string) => coordinators[i]!.list().find((s) => s.sessionId === id);
  return {
    keys: cluster.keys.map((k) => bytesToHex(k)),
    create: async (input) => (await coordinators[0]!.createSession(input)).sessionId,
    approve: async (i, id) => void (await coordinators[i]!.approve(id)),
    approvals: async (i, id) => find(i, id)?.signers.filter((s) => s.approved).length ?? -1,
    inboxPublished: async () => {
      const { transport } = nodes[0]!.network.status();
      return transport.inboxRecordsPublished + transport.inboxPublishFailures;
    },
    // Read from the events themselves: listing every snapshot at each event would time the bench.
    allComplete: (id, timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        const complete = new Set<number>();
        const finish = (error?: Error) => {
          clearTimeout(timer);
          for (const u of unsubscribes) u();
          if (error) reject(error);
          else resolve();
        };
        const timer = setTimeout(() => finish(new Error(`not complete everywhere after ${timeoutMs} ms`)), timeoutMs);
        const unsubscribes = coordinators.map((c, i) =>
          c.on('session', (s) => {
            if (s.sessionId !== id || s.phase !== 'COMPLETE') return;
            complete.add(i);
            if (complete.size === coordinators.length) finish();
          }),
        );
      }),
    snapshot: async (i, id) => find(i, id) ?? null,
    stop: () => cluster.stop(),
  };
}

async function threadPerSigner(labels: readonly string[], options: { bitcoinNetwork?: BitcoinNetwork }): Promise<Signers> {
  const cluster = await startWorkerCluster(labels, options);
  return {
    keys: cluster.keys,
    create: async (input) => (await cluster.request(0, 'create', { input })) as string,
    approve: async (i, id) => void (await cluster.request(i, 'approve', { sessionId: id })),
    approvals: async (i, id) => (await cluster.request(i, 'approvals', { sessionId: id })) as number,
    inboxPublished: async () => (await cluster.request(0, 'inboxPublished', {})) as number,
    allComplete: (id, timeoutMs) => cluster.whenAll(id, 'COMPLETE', timeoutMs),
    snapshot: async (i, id) => (await cluster.request(i, 'snapshot', { sessionId: id })) as SessionSnapshot | null,
    stop: () => cluster.stop(),
  };
}

export interface TimedSession {
  sessionId: string;
  /** createSession on the creator, its own review of the request included. */
  createMs: number;
  lastApprovalMs: number;
}

/**
 * The request reaches every signer and the creator's DHT copies for late signers are stored; every
 * signer but the last approves and their approvals reach everyone; then the last one approves, and
 * the time until every signer holds the result is measured.
 */
export async function lastApprovalToCompletion(signers: Signers, input: CreateSessionInput, timeoutMs = 60_000): Promise<TimedSession> {
  const n = signers.keys.length;
  const everyone = Array.from({ length: n }, (_, i) => i);
  const published = await signers.inboxPublished();
  const createStart = performance.now();
  const sessionId = await signers.create(input);
  const createMs = performance.now() - createStart;
  const seen = async (count: number) => (await Promise.all(everyone.map((i) => signers.approvals(i, sessionId)))).every((a) => a >= count);
  await waitFor('the request at every signer', () => seen(1), timeoutMs);
  await waitFor("the creator's DHT copies stored", async () => (await signers.inboxPublished()) >= published + n - 1, timeoutMs);
  for (let i = 1; i < n - 1; i++) await signers.approve(i, sessionId);
  await waitFor('the approvals at every signer', () => seen(n - 1), timeoutMs);
  const complete = signers.allComplete(sessionId, timeoutMs);
  const start = performance.now();
  await signers.approve(n - 1, sessionId);
  await complete;
  return { sessionId, createMs, lastApprovalMs: performance.now() - start };
}
