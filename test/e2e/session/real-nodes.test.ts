/**
 * The whole stack between real nodes: three coordinators, each on its own libp2p node on 127.0.0.1
 * (TCP, Noise, signer cards, the p2p SessionTransport), records on real files, real time. They
 * complete a signature that verifies under the group's taproot output key, and keep it through a restart.
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { p2tr } from '@scure/btc-signer';
import { keyAggExport, keyAggregate, sortKeys } from '@scure/btc-signer/musig2.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { systemRandom } from '../../../main/system-ports.ts';
import { inspectAnnouncement } from '../../../main/session/announcement.ts';
import { SessionCoordinator } from '../../../main/session/coordinator.ts';
import { FileRecordStore } from '../../../main/storage/record-store.ts';
import { realClock, realScheduler, startNode, stopAll, waitFor, type TestNode } from '../../integration/p2p/harness.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

async function coordinatorFor(node: TestNode, dir: string): Promise<SessionCoordinator> {
  const coordinator = new SessionCoordinator({
    clock: realClock,
    scheduler: realScheduler(),
    random: systemRandom,
    transport: node.network.transport,
    store: await FileRecordStore.open(dir),
    signer: node.signer,
  });
  await coordinator.start();
  cleanups.push(() => coordinator.cleanup());
  return coordinator;
}

describe('a session between real nodes', () => {
  it('completes over libp2p and the signature survives a restart', async () => {
    const root = await mkdtemp(join(tmpdir(), 'cosigner-e2e-'));
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    const alice = await startNode('e2e-alice', { inspectAnnouncement });
    const bob = await startNode('e2e-bob', { inspectAnnouncement, bootstrap: [alice.addr] });
    const carol = await startNode('e2e-carol', { inspectAnnouncement, bootstrap: [alice.addr] });
    const nodes = [alice, bob, carol];
    cleanups.push(() => stopAll(nodes));
    const keys = nodes.map((n) => n.signer.publicKey);
    await waitFor('every signer card everywhere', () => nodes.every((n) => keys.every((k) => n.network.transport.peerOf(k) !== undefined)));

    const coordinators = await Promise.all(nodes.map((n, i) => coordinatorFor(n, join(root, `n${i}`))));
    const message = bytesToHex(new Uint8Array(32).fill(0x42));
    const created = await coordinators[0]!.createSession({
      signers: keys.map(bytesToHex),
      payload: { kind: 'message', message, label: 'e2e' },
      description: 'between real nodes',
      tweak: 'taproot',
    });
    const id = created.sessionId;
    for (const c of coordinators.slice(1)) {
      await waitFor('the request', () => c.list().some((s) => s.sessionId === id));
      await c.approve(id);
    }
    await waitFor('COMPLETE everywhere', () => coordinators.every((c) => c.list().find((s) => s.sessionId === id)?.phase === 'COMPLETE'), 30_000);

    const outputKey = p2tr(keyAggExport(keyAggregate(sortKeys(keys)))).tweakedPubkey;
    const signatures = coordinators.map((c) => c.list().find((s) => s.sessionId === id)!.signatures);
    expect(new Set(signatures.map((s) => s.join()))).toEqual(new Set([signatures[0]!.join()]));
    expect(schnorr.verify(hexToBytes(signatures[0]![0]!), hexToBytes(message), outputKey)).toBe(true);
    for (const c of coordinators) expect(Object.keys(c.health().rejectedMessages)).toEqual([]);

    await coordinators[1]!.cleanup();
    const again = await coordinatorFor(bob, join(root, 'n1'));
    expect((await again.get(id))?.signatures).toEqual(signatures[1]);
  });
});
