/**
 * N real coordinators on one in-process network, with fake time, seeded randomness and in-memory
 * stores, and a driver that runs the network until a condition holds. Used by the session tests and
 * the session benchmark.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { SessionCoordinator, type CreateSessionInput } from '../../main/session/coordinator.ts';
import type { CoordinatorOptions } from '../../main/session/limits.ts';
import type { GroupById, RecordStore, Scheduler, SessionTransport } from '../../main/session/ports.ts';
import type { SessionSnapshot } from '../../main/session/snapshot.ts';
import { FakeTime } from './fake-time.ts';
import { InProcessNetwork, NO_FAULTS, type Faults, type InProcessTransport } from './in-process-network.ts';
import { MemoryRecordStore } from './memory-record-store.ts';
import { seededRandom } from './random.ts';
import { testSigner, type TestSigner } from './signers.ts';
import { knownGroups } from './known-groups.ts';

export interface Node {
  readonly index: number;
  readonly peerId: string;
  readonly signer: TestSigner;
  readonly transport: InProcessTransport;
  /** What the coordinator sends and subscribes through: `transport`, or the wrapper `ClusterOptions.transport` made. */
  readonly port: SessionTransport;
  store: RecordStore;
  coordinator: SessionCoordinator;
  /** The scheduler of the current process, killed by a crash. */
  scheduler: Scheduler & { kill(): void };
  /** Every 'session' event, in order. */
  readonly events: SessionSnapshot[];
  readonly requests: SessionSnapshot[];
}

export interface ClusterOptions {
  seed?: string;
  faults?: Faults;
  options?: Partial<CoordinatorOptions>;
  /** Per-node option overrides. */
  nodeOptions?: (index: number) => Partial<CoordinatorOptions>;
  stores?: (index: number) => RecordStore;
  /** The groups every node has saved, as lists of node indices; default: one group of every node. */
  groups?: readonly (readonly number[])[];
  /** The groups a node saved, by id, for requests naming a group path (none by default). */
  groupById?: (index: number) => GroupById;
  /** Wraps a node's in-process transport (e.g. in the real delivery queues, on the cluster's fake time). */
  transport?: (index: number, inner: InProcessTransport, time: FakeTime) => SessionTransport;
}

export class Cluster {
  readonly time: FakeTime;
  readonly net: InProcessNetwork;
  readonly nodes: Node[] = [];
  readonly #options: ClusterOptions;

  /** Whether a signer set is one of `ClusterOptions.groups` (the same saved groups on every node). */
  readonly knownGroup: (signers: readonly Uint8Array[]) => boolean;

  constructor(size: number, options: ClusterOptions = {}) {
    this.#options = options;
    const seed = options.seed ?? 'cluster';
    const keys = Array.from({ length: size }, (_, index) => testSigner(`${seed}/${index}`).publicKey);
    const groups = options.groups ?? [keys.map((_, index) => index)];
    this.knownGroup = knownGroups(groups.map((members) => members.map((index) => keys[index] as Uint8Array)));
    this.time = new FakeTime();
    this.net = new InProcessNetwork(this.time, seededRandom(`${seed}/network`), options.faults ?? NO_FAULTS);
    for (let index = 0; index < size; index++) {
      const signer = testSigner(`${seed}/${index}`);
      const peerId = `peer-${index}`;
      const transport = this.net.join(peerId, signer.publicKey);
      const port = options.transport?.(index, transport, this.time) ?? transport;
      const store = options.stores?.(index) ?? new MemoryRecordStore();
      const node: Node = {
        index,
        peerId,
        signer,
        transport,
        port,
        store,
        coordinator: undefined as never,
        scheduler: this.time.scope(),
        events: [],
        requests: [],
      };
      node.coordinator = this.#coordinator(node, store);
      this.nodes.push(node);
    }
  }

  #coordinator(node: Node, store: RecordStore): SessionCoordinator {
    const coordinator = new SessionCoordinator({
      clock: this.time,
      scheduler: node.scheduler,
      random: seededRandom(`${this.#options.seed ?? 'cluster'}/node/${node.index}/${node.events.length}`),
      transport: node.port,
      store,
      signer: node.signer,
      knownGroup: this.knownGroup,
      ...(this.#options.groupById ? { groupById: this.#options.groupById(node.index) } : {}),
      options: { ...this.#options.options, ...this.#options.nodeOptions?.(node.index) },
    });
    coordinator.on('session', (s) => node.events.push(s));
    coordinator.on('request', (s) => node.requests.push(s));
    return coordinator;
  }

  async start(): Promise<void> {
    for (const node of this.nodes) await node.coordinator.start();
  }

  /** Kills `node`'s process without any cleanup: its timers stop, it hears nothing more, its memory
   *  (secret nonces included) is gone. What it stored stays. */
  crash(node: Node): void {
    node.scheduler.kill();
    this.net.detach(node.peerId);
  }

  /** A new coordinator for `node` on the same store and network, as after a process restart. */
  async restart(node: Node, store: RecordStore = node.store): Promise<SessionCoordinator> {
    this.crash(node);
    node.scheduler = this.time.scope();
    node.store = store;
    node.coordinator = this.#coordinator(node, store);
    await node.coordinator.start();
    return node.coordinator;
  }

  signerHexes(count = this.nodes.length): string[] {
    return this.nodes.slice(0, count).map((n) => n.signer.hex);
  }

  async create(creator: number, input: Partial<CreateSessionInput> = {}, count = this.nodes.length): Promise<SessionSnapshot> {
    return this.nodes[creator]!.coordinator.createSession({
      signers: this.signerHexes(count),
      payload: { kind: 'message', message: bytesToHex(sha256(new TextEncoder().encode('hello'))), label: 'hello' },
      tweak: 'taproot',
      ...input,
    });
  }

  /** Lets every coordinator finish what it has queued. */
  async settle(): Promise<void> {
    for (let round = 0; round < 1000; round++) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      await Promise.all(this.nodes.map((n) => n.coordinator.idle()));
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (await this.#quiet()) return;
    }
    throw new Error('the cluster does not settle');
  }

  async #quiet(): Promise<boolean> {
    const before = this.net.delivered;
    await Promise.all(this.nodes.map((n) => n.coordinator.idle()));
    return this.net.delivered === before;
  }

  /** Fires timers (network deliveries, sweeps) in order until `done()` holds or `maxMs` of fake time passed. */
  async runUntil(done: () => boolean, maxMs = 60 * 60_000): Promise<boolean> {
    const end = this.time.now() + maxMs;
    await this.settle();
    while (!done()) {
      const at = this.time.nextAt();
      if (at === undefined || at > end) {
        await this.time.advance(Math.max(0, end - this.time.now()), () => this.settle());
        return done();
      }
      this.time.fireNext();
      await this.settle();
    }
    return true;
  }

  /** Runs until every node holding `sessionId` reached one of `phases`. */
  async runUntilPhase(sessionId: string, phases: readonly string[], maxMs?: number): Promise<boolean> {
    return this.runUntil(
      () =>
        this.nodes.every((n) => {
          const s = n.coordinator.list().find((x) => x.sessionId === sessionId);
          return s === undefined ? false : phases.includes(s.phase);
        }),
      maxMs,
    );
  }

  snapshot(node: number, sessionId: string): SessionSnapshot | undefined {
    return this.nodes[node]!.coordinator.list().find((s) => s.sessionId === sessionId);
  }
}

/** Sessions created by node 0 and declined by node 1, one every `spacingMs` of fake time. */
export async function floodOfDeclined(c: Cluster, count: number, spacingMs: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const requests = c.nodes[1]!.requests.length;
    const s = await c.create(0, { description: `request ${i}` });
    await c.runUntil(() => c.nodes[1]!.requests.length === requests + 1);
    await c.nodes[1]!.coordinator.decline(s.sessionId, 'no');
    await c.time.advance(spacingMs, () => c.settle());
    ids.push(s.sessionId);
  }
  return ids;
}
