/**
 * Real libp2p nodes on 127.0.0.1, joined through the first one and each holding every other's
 * signer card, with a session coordinator on each: the set-up that the real-node end-to-end tests
 * and the loopback benchmarks share.
 */
import { inspectAnnouncement } from '../../main/session/announcement.ts';
import { SessionCoordinator, type CoordinatorDeps } from '../../main/session/coordinator.ts';
import type { RecordStore } from '../../main/storage/record-store.ts';
import { systemRandom } from '../../main/system-ports.ts';
import { knownGroups } from './known-groups.ts';
import { realClock, realScheduler, startNode, stopAll, waitFor, type TestNode } from '../integration/p2p/harness.ts';

export interface RealCluster {
  nodes: TestNode[];
  keys: Uint8Array[];
  coordinators: SessionCoordinator[];
  stop(): Promise<void>;
}

type Extra = Pick<CoordinatorDeps, 'options' | 'groupKeys' | 'knownGroup' | 'groupById'>;

/** A started coordinator on a node's transport, with real time and the OS CSPRNG, taking requests for
 *  the groups `extra.knownGroup` knows. */
export async function startCoordinator(node: TestNode, store: RecordStore, extra: Extra): Promise<SessionCoordinator> {
  const coordinator = new SessionCoordinator({
    clock: realClock,
    scheduler: realScheduler(),
    random: systemRandom,
    transport: node.network.transport,
    store,
    signer: node.signer,
    ...extra,
  });
  await coordinator.start();
  return coordinator;
}

export async function startRealCluster(
  labels: readonly string[],
  storeFor: (index: number) => Promise<RecordStore> | RecordStore,
  extra: (index: number) => Pick<CoordinatorDeps, 'options' | 'groupKeys' | 'groupById'> = () => ({}),
): Promise<RealCluster> {
  const nodes: TestNode[] = [];
  const coordinators: SessionCoordinator[] = [];
  const stop = async () => {
    for (const c of coordinators) await c.cleanup();
    await stopAll(nodes);
  };
  try {
    for (const label of labels) {
      nodes.push(await startNode(label, { inspectAnnouncement, ...(nodes[0] ? { bootstrap: [nodes[0].addr] } : {}) }));
    }
    const keys = nodes.map((n) => n.signer.publicKey);
    await waitFor(
      'every signer card everywhere',
      () => nodes.every((n) => keys.every((k) => n.network.transport.peerOf(k) !== undefined)),
      60_000,
    );
    // Every node has saved the cluster's group (all of its keys).
    const knownGroup = knownGroups([keys]);
    for (const [i, node] of nodes.entries())
      coordinators.push(await startCoordinator(node, await storeFor(i), { knownGroup, ...extra(i) }));
    return { nodes, keys, coordinators, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
