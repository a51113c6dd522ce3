/**
 * Silent-socket lock-out: a script opens plain TCP sockets to a node's listen port and never says a
 * word, reopening each one as soon as the node closes it. libp2p admits only a few handshakes in
 * progress at a time (for all addresses together), so before the per-address limit a handful of
 * such sockets kept every new co-signer out. The flood comes from 127.0.0.2 and the co-signer from
 * 127.0.0.1 (Linux routes all of 127/8 to loopback), as two hosts would on a real network.
 */
import { verifiesAsBip322 } from '../../support/bip322-check.ts';
import { knownGroups } from '../../support/known-groups.ts';
import { connect, type Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToHex } from '@noble/hashes/utils.js';
import { p2tr } from '@scure/btc-signer';
import { keyAggExport, keyAggregate, sortKeys } from '@scure/btc-signer/musig2.js';
import { afterEach, describe, expect, it } from 'vitest';
import { inspectAnnouncement } from '../../../main/session/announcement.ts';
import { FileRecordStore } from '../../../main/storage/record-store.ts';
import { startCoordinator } from '../../support/real-cluster.ts';
import { startNode, stopAll, waitFor, type TestNode } from './harness.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

/** `count` sockets from `from` to `port` that send nothing; each is reopened when the node closes it. */
function silentFlood(from: string, port: number, count: number): { stop(): void; opened: () => number } {
  let stopped = false;
  let opened = 0;
  const sockets = new Set<Socket>();
  const open = (): void => {
    if (stopped) return;
    const socket = connect({ host: '127.0.0.1', port, localAddress: from });
    sockets.add(socket);
    socket.on('connect', () => (opened += 1));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      sockets.delete(socket);
      // Back at once, as a script would be (a short pause only so the loop does not spin).
      setTimeout(open, 50);
    });
  };
  for (let i = 0; i < count; i++) open();
  return {
    stop() {
      stopped = true;
      for (const s of sockets) s.destroy();
    },
    opened: () => opened,
  };
}

describe('silent sockets', () => {
  it('a flood of silent sockets from one address does not keep a new co-signer from connecting and signing', async () => {
    const root = await mkdtemp(join(tmpdir(), 'cosigner-silent-'));
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    const nodes: TestNode[] = [];
    cleanups.push(() => stopAll(nodes));
    const target = await startNode('silent-target', { inspectAnnouncement });
    nodes.push(target);
    const port = Number(target.addr.split('/')[4]);

    const flood = silentFlood('127.0.0.2', port, 20);
    cleanups.push(() => flood.stop());
    // Long enough for libp2p's per-host rate (5 connections a second) to let the flood fill its slots.
    await waitFor('the flood to be under way', () => flood.opened() >= 20, 10_000);
    await new Promise((r) => setTimeout(r, 2500));
    // The flood holds no more handshakes than one address may.
    expect(target.network.status().inboundHandshakes.pending).toBeLessThanOrEqual(4);

    // A new co-signer arrives while the flood goes on: it connects, exchanges cards, and signs.
    const started = Date.now();
    const cosigner = await startNode('silent-cosigner', { inspectAnnouncement, bootstrap: [target.addr] });
    nodes.push(cosigner);
    await waitFor(
      'cards exchanged both ways',
      () =>
        target.network.transport.peerOf(cosigner.signer.publicKey) !== undefined &&
        cosigner.network.transport.peerOf(target.signer.publicKey) !== undefined,
      15_000,
    );
    const keys = [cosigner.signer.publicKey, target.signer.publicKey];
    const atTarget = await startCoordinator(target, await FileRecordStore.open(join(root, 'target')), { knownGroup: knownGroups([keys]) });
    const atCosigner = await startCoordinator(cosigner, await FileRecordStore.open(join(root, 'cosigner')), {
      knownGroup: knownGroups([keys]),
    });
    cleanups.push(() => atTarget.cleanup());
    cleanups.push(() => atCosigner.cleanup());
    const message = bytesToHex(new Uint8Array(32).fill(0x5a));
    const { sessionId } = await atCosigner.createSession({
      signers: keys.map(bytesToHex),
      payload: { kind: 'message', message, label: 'silent' },
      description: 'under a silent-socket flood',
      tweak: 'taproot',
    });
    await waitFor('the request at the target', () => atTarget.list().some((s) => s.sessionId === sessionId), 15_000);
    await atTarget.approve(sessionId);
    const done = await waitFor(
      'COMPLETE on both',
      () => {
        const both = [atTarget, atCosigner].map((c) => c.list().find((s) => s.sessionId === sessionId));
        return both.every((s) => s?.phase === 'COMPLETE') ? both : undefined;
      },
      15_000,
    );
    // Within the time a user would wait, not after the flood happens to let go.
    expect(Date.now() - started).toBeLessThan(20_000);
    const outputKey = p2tr(keyAggExport(keyAggregate(sortKeys(keys)))).tweakedPubkey;
    expect(done.every((d) => verifiesAsBip322(d!, outputKey))).toBe(true);
    // The flood was still at it all along.
    expect(flood.opened()).toBeGreaterThan(20);
    expect(target.network.status().inboundHandshakes.refusedPerAddress).toBeGreaterThan(0);
  }, 60_000);
});
