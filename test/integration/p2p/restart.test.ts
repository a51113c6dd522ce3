/**
 * A signer's node dies mid-session: frames sent meanwhile wait and are delivered, in order, once it
 * is back (same peer identity, new address learned from its new card); if it never returns, the
 * sends fail with PEER_UNREACHABLE at the session's expiry.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { collect, startNode, stopAll, waitFor } from './harness.ts';
import type { TestNode } from './harness.ts';

let nodes: TestNode[] = [];
afterEach(async () => {
  await stopAll(nodes);
  nodes = [];
});

describe('signer killed mid-session', () => {
  it('gets the frames sent while it was down, in order, when it comes back', async () => {
    const a = await startNode('alice');
    const b = await startNode('bob', { bootstrap: [a.addr] });
    nodes = [a, b];
    const meta = { kind: 'session-message' as const, sessionId: 'ab', expiresAt: Date.now() + 30_000 };
    const atFirstBob = collect(b);
    await waitFor('bob known to alice', () => a.network.transport.peerOf(b.signer.publicKey));
    await a.network.transport.send(b.signer.publicKey, Uint8Array.of(0), meta);
    expect(atFirstBob.map((f) => f.frame[0])).toEqual([0]);
    await b.network.stop();
    const sends = [1, 2, 3].map((i) => a.network.transport.send(b.signer.publicKey, Uint8Array.of(i), meta));
    // The frames wait only once an attempt to reach the stopped node has failed.
    await waitFor('a failed attempt to reach the stopped bob', () => a.network.status().transport.failedAttempts >= 1);
    expect(a.network.status().transport.pendingDeliveries).toBe(3);

    const back = await startNode('bob', { bootstrap: [a.addr] });
    nodes.push(back);
    const atBob = collect(back);
    await Promise.all(sends);
    expect(atBob.map((f) => f.frame[0])).toEqual([1, 2, 3]);
    expect(atBob.every((f) => f.fromPeer === a.network.peerId)).toBe(true);
  });

  it('fails the pending sends with PEER_UNREACHABLE at expiry when it never returns', async () => {
    const a = await startNode('alice');
    const b = await startNode('bob', { bootstrap: [a.addr] });
    nodes = [a, b];
    await waitFor('bob known to alice', () => a.network.transport.peerOf(b.signer.publicKey));
    await b.network.stop();
    const expiresAt = Date.now() + 1200;
    const err = await a.network.transport
      .send(b.signer.publicKey, Uint8Array.of(9), { kind: 'session-message', sessionId: 'ab', expiresAt })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PEER_UNREACHABLE', context: { sessionId: 'ab' } });
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt - 50);
    expect(a.network.status().transport.pendingDeliveries).toBe(0);
  });
});
