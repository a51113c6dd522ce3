/**
 * DHT announce-to-discover latency across 10 real nodes on loopback: one node puts a fresh record
 * (a new signer card; a new announcement inbox record), another node that holds no copy looks it up
 * until it sees that version. Also the direct frame round trip between two connected nodes.
 */
import { performance } from 'node:perf_hooks';
import { createDhtRecordRules, encodeInboxRecord, inboxKey, decodeInboxRecord } from '../../main/p2p/dht-records.ts';
import { dhtGet, dhtPut } from '../../main/p2p/dht-client.ts';
import { systemRandom } from '../../main/system-ports.ts';
import { inspectTestAnnouncement, makeTestAnnouncement } from '../support/p2p-fixtures.ts';
import { collect, realClock, startNode, stopAll, waitFor } from '../integration/p2p/harness.ts';
import type { TestNode } from '../integration/p2p/harness.ts';

const NODES = 10;
const ROUNDS = 20;

function stats(label: string, samples: number[]): Record<string, string | number> {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
  return {
    measure: label,
    n: sorted.length,
    'median ms': +at(0.5).toFixed(1),
    'p95 ms': +at(0.95).toFixed(1),
    'max ms': +at(1).toFixed(1),
  };
}

async function timeUntil(probe: () => Promise<boolean>, timeoutMs = 20_000): Promise<number> {
  const start = performance.now();
  while (!(await probe())) {
    if (performance.now() - start > timeoutMs) throw new Error('not discovered in time');
    await new Promise((r) => setTimeout(r, 10));
  }
  return performance.now() - start;
}

export default async function bench(): Promise<void> {
  const nodes: TestNode[] = [];
  try {
    const boot = await startNode('bench-boot');
    nodes.push(boot);
    nodes.push(...(await Promise.all(Array.from({ length: NODES - 1 }, (_, i) => startNode(`bench-${i}`, { bootstrap: [boot.addr] })))));
    await waitFor('routing tables', () => nodes.every((n) => n.network.status().dhtRoutingTableSize >= 3), 30_000);
    const rules = createDhtRecordRules({ clock: realClock, inspectAnnouncement: inspectTestAnnouncement });

    const cardPut: number[] = [];
    const cardFind: number[] = [];
    const cardTotal: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const publisher = nodes[(r * 3 + 1) % NODES] as TestNode;
      const finder =
        nodes[(r * 7 + 4) % NODES] === publisher ? (nodes[(r * 7 + 5) % NODES] as TestNode) : (nodes[(r * 7 + 4) % NODES] as TestNode);
      const name = `round ${r}`;
      const t0 = performance.now();
      await publisher.network.publishCard({ displayName: name });
      const t1 = performance.now();
      const find = await timeUntil(
        async () => (await finder.network.findSigner(publisher.signer.publicKey, { refresh: true }))?.displayName === name,
      );
      cardPut.push(t1 - t0);
      cardFind.push(find);
      cardTotal.push(performance.now() - t0);
    }

    const inboxTotal: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const creator = nodes[(r * 3 + 2) % NODES] as TestNode;
      const recipient =
        nodes[(r * 5 + 6) % NODES] === creator ? (nodes[(r * 5 + 7) % NODES] as TestNode) : (nodes[(r * 5 + 6) % NODES] as TestNode);
      const expiresAt = Date.now() + 600_000;
      const ann = makeTestAnnouncement(creator.signer, [creator.signer.publicKey, recipient.signer.publicKey], expiresAt, r);
      const key = inboxKey(recipient.signer.publicKey, creator.signer.publicKey);
      const seq = Date.now() + r;
      const t0 = performance.now();
      await dhtPut(
        creator.network.libp2p,
        key,
        encodeInboxRecord({ recipient: recipient.signer.publicKey, seq, announcements: [ann] }, creator.signer, systemRandom),
        AbortSignal.timeout(10_000),
      );
      await timeUntil(async () => {
        const value = await dhtGet(recipient.network.libp2p, rules, key, AbortSignal.timeout(5000));
        return value !== undefined && decodeInboxRecord(value).seq === seq;
      });
      inboxTotal.push(performance.now() - t0);
    }

    const [a, b] = nodes as [TestNode, TestNode];
    collect(b);
    await waitFor('cards', () => a.network.transport.peerOf(b.signer.publicKey));
    const direct: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t0 = performance.now();
      await a.network.transport.send(b.signer.publicKey, Uint8Array.of(i), {
        kind: 'session-message',
        sessionId: 'bench',
        expiresAt: Date.now() + 10_000,
      });
      direct.push(performance.now() - t0);
    }

    console.log(`${NODES} nodes on 127.0.0.1, kad-dht ${'/cosigner/kad/1.0.0'}, ${ROUNDS} rounds each`);
    console.table([
      stats('card: put (publish to closest peers)', cardPut),
      stats('card: other node finds new version', cardFind),
      stats('card: announce-to-discover total', cardTotal),
      stats('inbox record: announce-to-discover total', inboxTotal),
      stats('direct frame send→ack (connected)', direct),
    ]);
  } finally {
    await stopAll(nodes);
  }
}
