import { afterEach, describe, expect, it } from 'vitest';
import { multiaddr } from '@multiformats/multiaddr';
import { NodeStatus as ContractNodeStatus } from '../../../preload/contract.ts';
import { SESSION_PROTOCOL } from '../../../main/p2p/wire.ts';
import { collect, FAST_TIMEOUTS, startNode, stopAll, waitFor } from './harness.ts';
import type { TestNode } from './harness.ts';
import { makeTestAnnouncement } from '../../support/p2p-fixtures.ts';

let nodes: TestNode[] = [];
const sessionStreams = (node: TestNode) =>
  node.network.libp2p
    .getConnections()
    .flatMap((c) => c.streams)
    .filter((st) => st.protocol === SESSION_PROTOCOL);
afterEach(async () => {
  await stopAll(nodes);
  nodes = [];
});

describe('two Cosigner nodes on loopback', () => {
  it('exchange signer cards when they connect', async () => {
    const a = await startNode('alice');
    const b = await startNode('bob', { bootstrap: [] });
    nodes = [a, b];
    const cardEvents: string[] = [];
    a.network.on('card', (card, source) => cardEvents.push(`${card.displayName}:${source}`));
    await b.network.libp2p.dial(multiaddr(a.addr));
    await waitFor(
      'cards both ways',
      () => a.network.transport.peerOf(b.signer.publicKey) !== undefined && b.network.transport.peerOf(a.signer.publicKey) !== undefined,
    );
    expect(a.network.transport.peerOf(b.signer.publicKey)).toBe(b.network.peerId);
    expect(b.network.transport.peerOf(a.signer.publicKey)).toBe(a.network.peerId);
    expect(cardEvents).toContain('bob:direct');
  });

  it('deliver frames both ways with the authenticated sender, and report status', async () => {
    const a = await startNode('alice');
    const b = await startNode('bob', { bootstrap: [a.addr] });
    nodes = [a, b];
    const atA = collect(a);
    const atB = collect(b);
    await waitFor('card of alice at bob', () => b.network.transport.peerOf(a.signer.publicKey));
    const expiresAt = Date.now() + 30_000;
    await b.network.transport.send(a.signer.publicKey, new Uint8Array([1, 2, 3]), { kind: 'session-message', sessionId: 'aa', expiresAt });
    const announcement = makeTestAnnouncement(a.signer, [a.signer.publicKey, b.signer.publicKey], expiresAt, 1);
    await a.network.transport.send(b.signer.publicKey, announcement, { kind: 'announcement', sessionId: 'aa', expiresAt });
    expect(atA).toEqual([{ frame: new Uint8Array([1, 2, 3]), fromPeer: b.network.peerId }]);
    expect(atB).toEqual([{ frame: announcement, fromPeer: a.network.peerId }]);

    const status = a.network.status();
    expect(status).toMatchObject({ running: true, peerId: a.network.peerId, mdnsEnabled: false, lanPeers: [], bannedPeers: 0 });
    expect(status.connections).toBeGreaterThanOrEqual(1);
    expect(status.listenAddresses[0]).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//);
    expect(status.dhtMode).toBe('server');
    await waitFor('routing table entry', () => a.network.status().dhtRoutingTableSize >= 1);
    expect(Object.values(status.rejectedFrames).every((n) => n === 0)).toBe(true);
    expect(JSON.parse(JSON.stringify(status))).toEqual(status);
    // It is what the UI contract expects as the node part of the health snapshot.
    expect(() => ContractNodeStatus.parse(status)).not.toThrow();
    await a.network.stop();
    const stopped = a.network.status();
    expect(stopped).toMatchObject({
      running: false,
      peerId: a.network.peerId,
      listenAddresses: [],
      connections: 0,
      dhtRoutingTableSize: 0,
    });
    expect(() => ContractNodeStatus.parse(stopped)).not.toThrow();
  });

  it('keep a session stream for the next frames, close it when idle, and open a new one after', async () => {
    const timeouts = { ...FAST_TIMEOUTS, streamIdleMs: 400 };
    const a = await startNode('alice', { timeouts });
    const b = await startNode('bob', { bootstrap: [a.addr], timeouts });
    nodes = [a, b];
    const atA = collect(a);
    await waitFor('card of alice at bob', () => b.network.transport.peerOf(a.signer.publicKey));
    const send = (byte: number) =>
      b.network.transport.send(a.signer.publicKey, Uint8Array.of(byte), {
        kind: 'session-message',
        sessionId: 'aa',
        expiresAt: Date.now() + 30_000,
      });
    for (const byte of [1, 2, 3]) await send(byte);
    expect(atA.map((f) => f.frame[0])).toEqual([1, 2, 3]);
    expect(sessionStreams(b)).toHaveLength(1);
    // Idle for longer than streamIdleMs: the sender closes it; the receiver took no offence.
    await waitFor('the idle stream closed', () => sessionStreams(b).length === 0 && sessionStreams(a).length === 0, 5_000);
    await send(4);
    expect(atA.map((f) => f.frame[0])).toEqual([1, 2, 3, 4]);
    expect(b.network.status().transport).toMatchObject({ failedAttempts: 0, nacksReceived: { 'rate-limited': 0, 'not-ready': 0 } });
    expect(Object.values(a.network.status().rejectedFrames).every((n) => n === 0)).toBe(true);
  });

  it('deliver on a new stream when the receiver closed the kept one meanwhile', async () => {
    // The receiver gives up on an idle stream after twice the sender's idle time: here the sender
    // keeps it far longer, so the receiver closes first and the next frame finds it closed.
    const a = await startNode('alice', { timeouts: { ...FAST_TIMEOUTS, streamIdleMs: 100 } });
    const b = await startNode('bob', { bootstrap: [a.addr], timeouts: { ...FAST_TIMEOUTS, streamIdleMs: 60_000 } });
    nodes = [a, b];
    const atA = collect(a);
    await waitFor('card of alice at bob', () => b.network.transport.peerOf(a.signer.publicKey));
    const send = (byte: number) =>
      b.network.transport.send(a.signer.publicKey, Uint8Array.of(byte), {
        kind: 'session-message',
        sessionId: 'aa',
        expiresAt: Date.now() + 30_000,
      });
    await send(1);
    // The receiver ends its side (the sender sees the end only when it next reads).
    await waitFor(
      'the receiver closed the kept stream, the sender still holds it',
      () => sessionStreams(a).every((st) => st.writeStatus !== 'writable') && sessionStreams(b).length === 1,
      5_000,
    );
    const kept = sessionStreams(b)[0]!.id;
    await send(2);
    expect(atA.map((f) => f.frame[0])).toEqual([1, 2]);
    // Delivered at the first attempt, on a new stream: the closed one cost no failed attempt.
    expect(b.network.status().transport.failedAttempts).toBe(0);
    expect(sessionStreams(b).map((st) => st.id)).not.toContain(kept);
    expect(Object.values(a.network.status().rejectedFrames).every((n) => n === 0)).toBe(true);
  });

  it('answers NOT_READY until the coordinator subscribes, then delivers on retry', async () => {
    const a = await startNode('alice');
    const b = await startNode('bob', { bootstrap: [a.addr] });
    nodes = [a, b];
    await waitFor('card of alice at bob', () => b.network.transport.peerOf(a.signer.publicKey));
    const sent = b.network.transport.send(a.signer.publicKey, new Uint8Array([7]), {
      kind: 'session-message',
      sessionId: 'bb',
      expiresAt: Date.now() + 30_000,
    });
    await waitFor('a delivery refused as not ready', () => b.network.status().transport.nacksReceived['not-ready'] >= 1);
    const atA = collect(a);
    await sent;
    expect(atA.map((f) => f.frame[0])).toEqual([7]);
  });

  it('keeps one transport object across a stop and start, subscribers included', async () => {
    const b = await startNode('bob');
    const a = await startNode('alice', { bootstrap: [b.addr] });
    nodes = [a, b];
    const transport = a.network.transport;
    const atA = collect(a);
    const meta = () => ({ kind: 'session-message' as const, sessionId: 'rs', expiresAt: Date.now() + 20_000 });
    await waitFor('alice known to bob', () => b.network.transport.peerOf(a.signer.publicKey));
    await b.network.transport.send(a.signer.publicKey, Uint8Array.of(1), meta());
    await a.network.stop();
    await a.network.start();
    expect(a.network.transport).toBe(transport);
    await b.network.transport.send(a.signer.publicKey, Uint8Array.of(2), meta());
    expect(atA.map((f) => f.frame[0])).toEqual([1, 2]);
  });

  it('refuses bad sends with typed errors', async () => {
    const a = await startNode('alice');
    nodes = [a];
    const t = a.network.transport;
    const later = Date.now() + 10_000;
    await expect(
      t.send(new Uint8Array(33), new Uint8Array([1]), { kind: 'session-message', sessionId: 'x', expiresAt: later }),
    ).rejects.toMatchObject({ code: 'INVALID_PUBLIC_KEY' });
    await expect(
      t.send(a.signer.publicKey, new Uint8Array(0), { kind: 'session-message', sessionId: 'x', expiresAt: later }),
    ).rejects.toMatchObject({ code: 'OVERSIZED_MESSAGE' });
    await expect(
      t.send(a.signer.publicKey, new Uint8Array(256 * 1024 + 1), { kind: 'session-message', sessionId: 'x', expiresAt: later }),
    ).rejects.toMatchObject({ code: 'OVERSIZED_MESSAGE' });
    await expect(
      t.send(a.signer.publicKey, new Uint8Array([1]), { kind: 'session-message', sessionId: 'x', expiresAt: Date.now() - 1 }),
    ).rejects.toMatchObject({ code: 'EXPIRED' });
    await a.network.stop();
    await expect(
      t.send(a.signer.publicKey, new Uint8Array([1]), { kind: 'session-message', sessionId: 'x', expiresAt: later }),
    ).rejects.toMatchObject({ code: 'NOT_RUNNING' });
    expect(t.localPeerId).toBe(a.network.peerId);
    expect(t.peerOf(a.signer.publicKey)).toBeUndefined();
  });
});
