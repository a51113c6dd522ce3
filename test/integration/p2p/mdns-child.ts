/**
 * Runs inside a throwaway network namespace (see mdns.test.ts): two nodes with mDNS on, no
 * bootstrap peers, find each other on the LAN, swap cards and deliver a frame. Prints one JSON line.
 */
import { startNode, stopAll, waitFor, collect } from './harness.ts';
import type { TestNode } from './harness.ts';

const mdns = { enabled: true, serviceTag: '_cosigner-test._udp.local', intervalMs: 500 };
let nodes: TestNode[] = [];
try {
  const a = await startNode('lan-a', { mdns });
  const b = await startNode('lan-b', { mdns });
  nodes = [a, b];
  const atB = collect(b);
  const seen = (x: TestNode, y: TestNode) => x.network.lanPeers().find((p) => p.peerId === y.network.peerId && p.cards.length > 0);
  const aSeesB = await waitFor('a finds b on the LAN', () => seen(a, b), 20_000);
  const bSeesA = await waitFor('b finds a on the LAN', () => seen(b, a), 20_000);
  await a.network.transport.send(b.signer.publicKey, Uint8Array.of(0x1a), {
    kind: 'session-message',
    sessionId: 'lan',
    expiresAt: Date.now() + 20_000,
  });
  const status = a.network.status();
  console.log(
    JSON.stringify({
      ok: true,
      aSeesB,
      bSeesA,
      bPeerId: b.network.peerId,
      aPeerId: a.network.peerId,
      delivered: atB.map((f) => ({ frame: [...f.frame], fromPeer: f.fromPeer })),
      mdns: status.mdnsEnabled,
      addresses: status.listenAddresses,
    }),
  );
} catch (err) {
  console.log(JSON.stringify({ ok: false, error: err instanceof Error ? err.message : String(err) }));
  process.exitCode = 1;
} finally {
  await stopAll(nodes);
}
