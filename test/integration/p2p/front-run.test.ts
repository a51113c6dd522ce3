/**
 * Nothing is lost on delivery: a node acknowledges an announcement only once its coordinator stored
 * it or refused it for good. A copy from the wrong peer (a stranger front-running the creator) or
 * one refused for now (the pending-approval limit) is answered NACK, so it cannot shadow the genuine
 * delivery and the creator's node sends it again. Real libp2p nodes and coordinators on 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectAnnouncement, signAnnouncement } from '../../../main/session/announcement.ts';
import type { SessionCoordinator } from '../../../main/session/coordinator.ts';
import type { CoordinatorOptions } from '../../../main/session/limits.ts';
import { knownGroups } from '../../support/known-groups.ts';
import { MemoryRecordStore } from '../../support/memory-record-store.ts';
import { startCoordinator } from '../../support/real-cluster.ts';
import { testSigner } from '../../support/signers.ts';
import { startNode, stopAll, waitFor, type TestNode } from './harness.ts';

let alice: TestNode;
let bob: TestNode;
let mallory: TestNode;
const coordinators: SessionCoordinator[] = [];

beforeAll(async () => {
  alice = await startNode('front-run-alice', { inspectAnnouncement });
  bob = await startNode('front-run-bob', { inspectAnnouncement, bootstrap: [alice.addr] });
  mallory = await startNode('front-run-mallory', { inspectAnnouncement, bootstrap: [alice.addr] });
  const keys = [alice, bob, mallory].map((n) => n.signer.publicKey);
  await waitFor(
    'every signer card everywhere',
    () => [alice, bob, mallory].every((n) => keys.every((k) => n.network.transport.peerOf(k) !== undefined)),
    60_000,
  );
}, 90_000);

afterAll(async () => {
  for (const c of coordinators.splice(0)) await c.cleanup();
  await stopAll([alice, bob, mallory]);
});

async function coordinatorOf(
  node: TestNode,
  options: Partial<CoordinatorOptions> = {},
  knownGroup = knownGroups([[alice.signer.publicKey, bob.signer.publicKey]]),
): Promise<SessionCoordinator> {
  const c = await startCoordinator(node, new MemoryRecordStore(), { options, knownGroup });
  coordinators.push(c);
  return c;
}

async function stopCoordinators(): Promise<void> {
  for (const c of coordinators.splice(0)) await c.cleanup();
}

describe('nothing is lost on delivery', () => {
  it('a front-run copy of an announcement from the wrong peer cannot shadow the genuine one', async () => {
    const atBob = await coordinatorOf(bob);
    const now = Date.now();
    const request = signAnnouncement(
      {
        signers: [alice.signer.publicKey, bob.signer.publicKey],
        creatorIndex: 0,
        tweak: 'taproot',
        createdAt: now,
        expiresAt: now + 600_000,
        salt: new Uint8Array(32).fill(1),
        display: 'front-run me',
        payload: { kind: 'message', message: new Uint8Array(32).fill(2), label: '' },
      },
      testSigner('front-run-alice').secret,
      new Uint8Array(32),
    );
    const meta = { kind: 'announcement' as const, sessionId: request.idHex, expiresAt: now + 600_000 };
    // Mallory got the signed request (e.g. from the creator's public DHT inbox) and delivers it first.
    void mallory.network.transport.send(bob.signer.publicKey, request.frame, meta).catch(() => undefined);
    await waitFor('the copy refused as WRONG_PEER', () => (atBob.health().rejectedMessages.WRONG_PEER ?? 0) > 0);
    // Then the creator's node delivers it.
    await alice.network.transport.send(bob.signer.publicKey, request.frame, meta);
    await waitFor('the request shown on Bob’s node', () => atBob.list().some((s) => s.sessionId === request.idHex), 10_000);
    await stopCoordinators();
  }, 60_000);

  it('a request refused for now (pending-approval limit) is sent again, and taken once there is room', async () => {
    const atAlice = await coordinatorOf(alice);
    const atBob = await coordinatorOf(bob, { maxPendingApprovals: 1 });
    const signers = [alice, bob].map((n) => Buffer.from(n.signer.publicKey).toString('hex'));
    const create = (text: string) =>
      atAlice.createSession({
        signers,
        payload: { kind: 'message', message: Buffer.from(text.padEnd(32, '.')).toString('hex') },
        tweak: 'taproot',
      });
    const first = await create('first');
    await waitFor('the first request at Bob', () => atBob.list().some((s) => s.sessionId === first.sessionId));
    const second = await create('second');
    await waitFor('the second refused for now', () => (atBob.health().rejectedMessages.LIMIT_REACHED ?? 0) > 0);
    await atBob.decline(first.sessionId, 'not now');
    await waitFor('the second request at Bob', () => atBob.list().some((s) => s.sessionId === second.sessionId), 15_000);
    await stopCoordinators();
  }, 60_000);

  it('a request for a group not saved yet is taken once its recipient saves the group', async () => {
    const atAlice = await coordinatorOf(alice);
    let saved = false;
    const saysBob = knownGroups([[alice.signer.publicKey, bob.signer.publicKey]]);
    const atBob = await coordinatorOf(bob, {}, (signers) => saved && saysBob(signers));
    const signers = [alice, bob].map((n) => Buffer.from(n.signer.publicKey).toString('hex'));
    const s = await atAlice.createSession({ signers, payload: { kind: 'message', message: 'cd'.repeat(32) }, tweak: 'taproot' });
    await waitFor('the request refused for now', () => (atBob.health().rejectedMessages.UNKNOWN_GROUP ?? 0) > 0);
    expect(atBob.list()).toEqual([]);
    saved = true;
    await waitFor('the request at Bob', () => atBob.list().some((x) => x.sessionId === s.sessionId), 15_000);
    await stopCoordinators();
  }, 60_000);
});
