/**
 * Real libp2p nodes on 127.0.0.1 with a session coordinator each, every signer on its own worker
 * thread (test/support/cluster-worker.ts): each has its own event loop, as on its own machine, and
 * the signers' work runs side by side on the machine's cores (here 2, shared by all). The benches
 * drive it; each signer reports its sessions' phase changes to the parent thread.
 */
import { Worker } from 'node:worker_threads';
import type { BitcoinNetwork } from '../../preload/contract.ts';

export interface ClusterWorkerData {
  label: string;
  bootstrap?: string;
  /** Set for PSBT sessions: the signer's network, and a group-keys cache of its own. */
  bitcoinNetwork?: BitcoinNetwork;
}

export type ClusterRequest = { id: number } & (
  | { op: 'start'; keys: string[] }
  | { op: 'create'; input: unknown }
  | { op: 'approve'; sessionId: string }
  /** How many signers this node has seen approve the session (-1: no such session). */
  | { op: 'approvals'; sessionId: string }
  /** The session's snapshot as JSON, or null. */
  | { op: 'snapshot'; sessionId: string }
  /** Inbox records this node published to the DHT or failed to (its requests' copies for late signers). */
  | { op: 'inboxPublished' }
  | { op: 'stop' }
);

type Op = ClusterRequest['op'];
type ArgsOf<O extends Op> = Omit<Extract<ClusterRequest, { op: O }>, 'id' | 'op'>;

export type WorkerMessage =
  | { type: 'ready'; addr: string; key: string }
  | { type: 'reply'; id: number; ok: true; value: unknown }
  | { type: 'reply'; id: number; ok: false; error: string }
  | { type: 'phase'; sessionId: string; phase: string };

export interface WorkerCluster {
  /** Each signer's public key (hex), in worker order. */
  readonly keys: readonly string[];
  request<O extends Op>(index: number, op: O, args: ArgsOf<O>): Promise<unknown>;
  /** Resolves once every signer has reported `phase` for the session (reports already in count). */
  whenAll(sessionId: string, phase: string, timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

const WORKER = new URL('./cluster-worker.ts', import.meta.url);

export async function startWorkerCluster(
  labels: readonly string[],
  options: { bitcoinNetwork?: BitcoinNetwork } = {},
): Promise<WorkerCluster> {
  const workers: Worker[] = [];
  const keys: string[] = [];
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const reached = new Map<string, Set<number>>();
  const watchers = new Set<() => void>();
  let nextId = 1;

  const onMessage = (index: number) => (message: WorkerMessage) => {
    if (message.type === 'reply') {
      const waiting = pending.get(message.id);
      pending.delete(message.id);
      if (message.ok) waiting?.resolve(message.value);
      else waiting?.reject(new Error(`${labels[index]}: ${message.error}`));
    } else if (message.type === 'phase') {
      const key = `${message.sessionId}/${message.phase}`;
      const set = reached.get(key) ?? new Set<number>();
      set.add(index);
      reached.set(key, set);
      for (const watcher of [...watchers]) watcher();
    }
  };

  const spawn = (data: ClusterWorkerData) =>
    new Promise<{ worker: Worker; addr: string; key: string }>((resolve, reject) => {
      const worker = new Worker(WORKER, { workerData: data });
      worker.once('error', reject);
      worker.once('message', (m: WorkerMessage) => {
        if (m.type === 'ready') resolve({ worker, addr: m.addr, key: m.key });
        else reject(new Error(`${data.label}: unexpected first message ${m.type}`));
      });
    });

  const request = <O extends Op>(index: number, op: O, args: ArgsOf<O>): Promise<unknown> => {
    const worker = workers[index];
    if (worker === undefined) return Promise.reject(new Error(`no worker ${index}`));
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, op, ...args });
    });
  };

  const stop = async () => {
    await Promise.all(workers.map((_, i) => request(i, 'stop', {}).catch(() => undefined)));
    await Promise.all(workers.map((w) => w.terminate()));
  };

  try {
    let first: string | undefined;
    for (const label of labels) {
      const { worker, addr, key } = await spawn({ label, ...(first ? { bootstrap: first } : {}), ...options });
      worker.on('message', onMessage(workers.length));
      workers.push(worker);
      keys.push(key);
      first ??= addr;
    }
    await Promise.all(workers.map((_, i) => request(i, 'start', { keys })));
  } catch (e) {
    await stop();
    throw e;
  }

  return {
    keys,
    request,
    whenAll(sessionId, phase, timeoutMs) {
      const done = () => (reached.get(`${sessionId}/${phase}`)?.size ?? 0) === workers.length;
      if (done()) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const watcher = () => {
          if (!done()) return;
          clearTimeout(timer);
          watchers.delete(watcher);
          resolve();
        };
        const timer = setTimeout(() => {
          watchers.delete(watcher);
          reject(new Error(`not every signer reached ${phase} within ${timeoutMs} ms`));
        }, timeoutMs);
        watchers.add(watcher);
      });
    },
    stop,
  };
}
