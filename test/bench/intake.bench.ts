/**
 * A node flooded by strangers while two real co-signers sign: real libp2p nodes on 127.0.0.1, a
 * coordinator on the victim (its records on disk) and on its co-signer. Three stranger nodes, each
 * with a signer card of its own, send the victim announcements they really signed (valid
 * signatures, a 4 KiB description, the victim listed), each as fast as the victim's per-peer frame
 * budget lets it without being banned, for INTAKE_BENCH_SECONDS (default 60). Meanwhile the
 * co-signer sends one genuine request, which the victim approves. Printed: what the victim holds on
 * disk and in its tables before and after, the process's RSS (every node runs in this one process),
 * and how long the genuine session took. The flood must leave no record, no pending request and no
 * delivery queue behind; the bench fails if it does.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { peerIdFromString } from '@libp2p/peer-id';
import { lpStream } from '@libp2p/utils';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspectAnnouncement, signAnnouncement } from '../../main/session/announcement.ts';
import type { SessionCoordinator } from '../../main/session/coordinator.ts';
import { encodeMessage, SESSION_PROTOCOL } from '../../main/p2p/wire.ts';
import { FileRecordStore } from '../../main/storage/record-store.ts';
import { startNode, stopAll, waitFor, type TestNode } from '../integration/p2p/harness.ts';
import { knownGroups } from '../support/known-groups.ts';
import { MemoryRecordStore } from '../support/memory-record-store.ts';
import { startCoordinator } from '../support/real-cluster.ts';
import { testSigner } from '../support/signers.ts';

const SECONDS = Number(process.env.INTAKE_BENCH_SECONDS ?? 60);
const STRANGERS = 3;
/** Just under the victim's per-peer frame budget (main/p2p/peer-guard.ts: 20 a second), so that no
 *  stranger is banned and the flood lasts. */
const FRAMES_PER_SECOND = 18;
const FRAMES_PER_STREAM = 16;

async function dirBytes(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    files += 1;
    bytes += (await stat(path.join(dir, entry.name))).size;
  }
  return { files, bytes };
}

const mib = (n: number) => Number((n / 2 ** 20).toFixed(1));

/** One stranger: signs announcements naming the victim and delivers them at a steady pace. */
async function flood(
  stranger: TestNode,
  victim: TestNode,
  until: number,
  label: string,
): Promise<{ sent: number; acked: number; nacked: number }> {
  const signer = testSigner(label);
  const target = peerIdFromString(victim.network.peerId);
  const counts = { sent: 0, acked: 0, nacked: 0 };
  const gap = 1000 / FRAMES_PER_SECOND;
  let next = Date.now();
  while (Date.now() < until) {
    const stream = await stranger.network.libp2p.dialProtocol(target, SESSION_PROTOCOL);
    const lp = lpStream(stream);
    try {
      for (let i = 0; i < FRAMES_PER_STREAM && Date.now() < until; i++) {
        const now = Date.now();
        const request = signAnnouncement(
          {
            signers: [signer.publicKey, victim.signer.publicKey],
            creatorIndex: 0,
            tweak: 'taproot',
            createdAt: now,
            expiresAt: Number.MAX_SAFE_INTEGER,
            salt: Uint8Array.from(Buffer.from(`${label}/${counts.sent}`.padEnd(32, '.').slice(0, 32))),
            display: 'x'.repeat(4096),
            payload: { kind: 'message', message: new Uint8Array(32).fill(counts.sent % 251), label: 'please' },
          },
          signer.secret,
          new Uint8Array(32),
        );
        await lp.write(encodeMessage({ type: 'deliver', kind: 'announcement', payload: request.frame }));
        counts.sent += 1;
        const reply = (await lp.read({ signal: AbortSignal.timeout(10_000) })).subarray();
        next += gap;
        const nacked = reply[1] !== 0x02;
        if (nacked) counts.nacked += 1;
        else counts.acked += 1;
        await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
        if (nacked) break; // a NACK ends the stream on the receiver's side
      }
    } finally {
      // A stranger does not wait for a polite close.
      stream.abort(new Error('next stream'));
    }
  }
  return counts;
}

export default async function bench(): Promise<void> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'cosigner-intake-bench-'));
  const nodes: TestNode[] = [];
  const coordinators: SessionCoordinator[] = [];
  try {
    const victim = await startNode('intake-victim', { inspectAnnouncement });
    const cosigner = await startNode('intake-cosigner', { inspectAnnouncement, bootstrap: [victim.addr] });
    nodes.push(victim, cosigner);
    for (let i = 0; i < STRANGERS; i++)
      nodes.push(await startNode(`intake-stranger-${i}`, { inspectAnnouncement, bootstrap: [victim.addr] }));
    const strangers = nodes.slice(2);
    await waitFor(
      'every card at the victim',
      () => nodes.every((n) => victim.network.transport.peerOf(n.signer.publicKey) !== undefined),
      60_000,
    );
    await waitFor(
      'the victim’s card at the co-signer',
      () => cosigner.network.transport.peerOf(victim.signer.publicKey) !== undefined,
      60_000,
    );

    const group = [victim.signer.publicKey, cosigner.signer.publicKey];
    const knownGroup = knownGroups([group]);
    const sessionsDir = path.join(dataDir, 'sessions');
    const atVictim = await startCoordinator(victim, await FileRecordStore.open(sessionsDir), { knownGroup });
    const atCosigner = await startCoordinator(cosigner, new MemoryRecordStore(), { knownGroup });
    coordinators.push(atVictim, atCosigner);

    global.gc?.();
    const before = { disk: await dirBytes(sessionsDir), rss: process.memoryUsage().rss };
    const until = Date.now() + SECONDS * 1000;
    const flooding = Promise.all(strangers.map((s, i) => flood(s, victim, until, `intake-stranger-key-${i}`)));

    // The genuine request, a few seconds into the flood.
    await new Promise((r) => setTimeout(r, Math.min(5000, (SECONDS * 1000) / 4)));
    const started = performance.now();
    const genuine = await atCosigner.createSession({
      signers: group.map((k) => bytesToHex(k)),
      payload: { kind: 'message', message: bytesToHex(new Uint8Array(32).fill(0x42)), label: 'rent' },
      tweak: 'taproot',
    });
    await waitFor('the genuine request at the victim', () => atVictim.list().some((s) => s.sessionId === genuine.sessionId), 60_000);
    await atVictim.approve(genuine.sessionId);
    await waitFor(
      'the genuine session complete on both',
      () => [atVictim, atCosigner].every((c) => c.list().find((s) => s.sessionId === genuine.sessionId)?.phase === 'COMPLETE'),
      60_000,
    );
    const sessionMs = performance.now() - started;

    const sent = await flooding;
    await atVictim.idle();
    const after = { disk: await dirBytes(sessionsDir), rss: process.memoryUsage().rss };
    const health = atVictim.health();
    const status = victim.network.status();
    const total = sent.reduce((n, s) => ({ sent: n.sent + s.sent, acked: n.acked + s.acked, nacked: n.nacked + s.nacked }), {
      sent: 0,
      acked: 0,
      nacked: 0,
    });

    console.log(`${STRANGERS} strangers flood one node for ${SECONDS} s with signed announcements (4 KiB each) while two co-signers sign:`);
    console.table([
      { what: 'announcements sent by strangers', value: total.sent },
      { what: '… per second', value: Number((total.sent / SECONDS).toFixed(1)) },
      { what: '… answered ACK / NACK', value: `${total.acked} / ${total.nacked}` },
      { what: 'refused UNKNOWN_GROUP at the victim', value: health.rejectedMessages.UNKNOWN_GROUP ?? 0 },
      { what: 'other refusals at the victim', value: JSON.stringify({ ...health.rejectedMessages, UNKNOWN_GROUP: undefined }) },
      { what: 'strangers banned', value: status.bannedPeers },
      { what: 'records on disk before → after', value: `${before.disk.files} → ${after.disk.files}` },
      { what: 'record bytes before → after', value: `${before.disk.bytes} → ${after.disk.bytes}` },
      { what: 'pending requests after', value: health.pendingApprovals },
      { what: 'delivery queues (frames) after', value: status.transport?.pendingDeliveries ?? 0 },
      { what: 'process RSS MiB before → after', value: `${mib(before.rss)} → ${mib(after.rss)}` },
      { what: 'genuine session, request to COMPLETE ms', value: Number(sessionMs.toFixed(0)) },
    ]);
    // Bounded: the flood left nothing behind but its count.
    if (after.disk.files !== before.disk.files + 1)
      throw new Error(`the flood left records on disk: ${before.disk.files} → ${after.disk.files} (expected only the genuine one)`);
    if (health.pendingApprovals !== 0) throw new Error(`${health.pendingApprovals} requests pending after the flood`);
    if ((status.transport?.pendingDeliveries ?? 0) !== 0) throw new Error('the flood left delivery queues behind');
  } finally {
    for (const c of coordinators) await c.cleanup();
    await stopAll(nodes);
    await rm(dataDir, { recursive: true, force: true });
  }
}
