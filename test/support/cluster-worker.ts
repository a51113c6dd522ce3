/**
 * One signer of a worker cluster (test/support/worker-cluster.ts): a real libp2p node and its
 * session coordinator on this worker thread's own event loop. Driven by requests from the parent
 * thread; reports every change of a session's phase to it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import type { CreateSessionInput, SessionCoordinator } from '../../main/session/coordinator.ts';
import { inspectAnnouncement } from '../../main/session/announcement.ts';
import { GroupKeysCache } from '../../main/session/psbt-session.ts';
import { startNode, waitFor } from '../integration/p2p/harness.ts';
import { knownGroups } from './known-groups.ts';
import { MemoryRecordStore } from './memory-record-store.ts';
import { startCoordinator } from './real-cluster.ts';
import type { ClusterRequest, ClusterWorkerData, WorkerMessage } from './worker-cluster.ts';

if (parentPort === null) throw new Error('cluster-worker runs as a worker thread');
const port = parentPort;
const data = workerData as ClusterWorkerData;
const node = await startNode(data.label, { inspectAnnouncement, ...(data.bootstrap ? { bootstrap: [data.bootstrap] } : {}) });
let coordinator: SessionCoordinator | undefined;
const phases = new Map<string, string>();

const post = (message: WorkerMessage): void => port.postMessage(message);

function started(): SessionCoordinator {
  if (coordinator === undefined) throw new Error(`${data.label}: the coordinator is not started`);
  return coordinator;
}

async function handle(request: ClusterRequest): Promise<unknown> {
  switch (request.op) {
    case 'start': {
      const keys = request.keys.map((k) => hexToBytes(k));
      await waitFor('every signer card', () => keys.every((k) => node.network.transport.peerOf(k) !== undefined), 60_000);
      coordinator = await startCoordinator(node, new MemoryRecordStore(), {
        knownGroup: knownGroups([keys]),
        ...(data.bitcoinNetwork ? { groupKeys: new GroupKeysCache(), options: { bitcoinNetwork: data.bitcoinNetwork } } : {}),
      });
      coordinator.on('session', (s) => {
        if (phases.get(s.sessionId) === s.phase) return;
        phases.set(s.sessionId, s.phase);
        post({ type: 'phase', sessionId: s.sessionId, phase: s.phase });
      });
      return undefined;
    }
    case 'create':
      return (await started().createSession(request.input as CreateSessionInput)).sessionId;
    case 'approve':
      await started().approve(request.sessionId);
      return undefined;
    case 'approvals':
      return (
        started()
          .list()
          .find((s) => s.sessionId === request.sessionId)
          ?.signers.filter((s) => s.approved).length ?? -1
      );
    case 'snapshot':
      return JSON.parse(
        JSON.stringify(
          started()
            .list()
            .find((s) => s.sessionId === request.sessionId) ?? null,
        ),
      ) as unknown;
    case 'inboxPublished': {
      const { transport } = node.network.status();
      return transport.inboxRecordsPublished + transport.inboxPublishFailures;
    }
    case 'stop':
      await coordinator?.cleanup();
      await node.network.stop();
      return undefined;
  }
}

port.on('message', (request: ClusterRequest) => {
  handle(request).then(
    (value) => post({ type: 'reply', id: request.id, ok: true, value }),
    (e: unknown) => post({ type: 'reply', id: request.id, ok: false, error: e instanceof Error ? e.message : String(e) }),
  );
});
post({ type: 'ready', addr: node.addr, key: bytesToHex(node.signer.publicKey) });
