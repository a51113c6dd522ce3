/**
 * Two nodes that cannot be dialled (they listen on no address, as behind a NAT with no port
 * mapping) reach each other through a relay with go-libp2p's default limits: each holds a
 * reservation, publishes its relay address in its signer card, finds the other's card in the
 * relay's DHT, and frames flow over the relayed (limited) connection. NATs themselves are in
 * test/integration/nat/; this is the same path on loopback, fast.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { generatePeerIdentity } from '../../../main/p2p/identity.ts';
import type { CosignerNode } from '../../../main/p2p/node.ts';
import { KUBO_RELAY_LIMITS } from '../../../main/p2p/reachability.ts';
import { startRelayNode } from '../../../main/p2p/relay-node.ts';
import { NodeStatus as ContractNodeStatus } from '../../../preload/contract.ts';
import { inspectTestAnnouncement } from '../../support/p2p-fixtures.ts';
import { seededRandom } from '../../support/random.ts';
import { testSigner } from '../../support/signers.ts';
import { collect, realClock, startNode, stopAll, waitFor } from './harness.ts';
import type { TestNode } from './harness.ts';

let relays: CosignerNode[] = [];
let nodes: TestNode[] = [];
afterEach(async () => {
  await stopAll(nodes);
  await Promise.all(relays.map((r) => r.libp2p.stop()));
  nodes = [];
  relays = [];
});

async function startRelay(allow: string[] = [], label = 'relay'): Promise<string> {
  const relay = await startRelayNode({
    identity: await generatePeerIdentity(seededRandom(label)),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    limits: KUBO_RELAY_LIMITS,
    maxReservations: 16,
    allow,
    upnp: false,
    clock: realClock,
    inspectAnnouncement: inspectTestAnnouncement,
  });
  relays.push(relay);
  return relay.libp2p.getMultiaddrs()[0]!.toString();
}

/** A node no one can dial: it listens nowhere and is reachable only through the relay. */
function startHidden(label: string, relayAddr: string | string[], cosigner: string): Promise<TestNode> {
  const addrs = [relayAddr].flat();
  return startNode(label, { listen: [], relays: addrs, bootstrap: addrs, cosigners: [testSigner(cosigner).publicKey] });
}

describe('co-signers reached through a relay', () => {
  it('find each other through the relay, swap cards and deliver frames over the limited connection', async () => {
    const relayAddr = await startRelay();
    const a = await startHidden('relay-alice', relayAddr, 'relay-bob');
    const b = await startHidden('relay-bob', relayAddr, 'relay-alice');
    nodes = [a, b];
    const atB = collect(b);
    for (const n of [a, b]) await waitFor(`${n.label} holds a reservation`, () => n.network.status().reachability.status === 'relayed');
    // B's card, found in the relay's DHT by A, names B's relay address: the only way to reach B.
    const card = await waitFor('B card with its relay address', async () => {
      const c = await a.network.findSigner(b.signer.publicKey, { refresh: true });
      return c?.multiaddrs.some((m) => m.includes('/p2p-circuit')) === true ? c : undefined;
    });
    expect(card.multiaddrs.every((m) => m.includes('/p2p-circuit'))).toBe(true);

    // A dialled B through the relay; B answers on that connection. libp2p's dialProtocol counts no
    // limited connection as existing, so B's streams used to dial a new relayed connection each,
    // which was closed at once: nothing B sent arrived.
    const atA = collect(a);
    const send = (from: TestNode, to: TestNode, i: number) =>
      from.network.transport.send(to.signer.publicKey, Uint8Array.of(i), {
        kind: 'session-message',
        sessionId: 'relayed',
        expiresAt: Date.now() + 20_000,
      });
    for (let i = 0; i < 4; i++) {
      await send(a, b, i);
      await send(b, a, i);
    }
    expect(atB).toEqual([0, 1, 2, 3].map((i) => ({ frame: Uint8Array.of(i), fromPeer: a.network.peerId })));
    expect(atA).toEqual([0, 1, 2, 3].map((i) => ({ frame: Uint8Array.of(i), fromPeer: b.network.peerId })));

    const status = a.network.status();
    const bob = status.cosigners.find((c) => c.peerId === b.network.peerId);
    expect(bob).toMatchObject({ displayName: 'relay-bob', path: 'relayed', relay: relays[0]!.libp2p.peerId.toString() });
    expect(bob!.since).toBeGreaterThan(0);
    expect(status.reachability.relays).toEqual([
      expect.objectContaining({ address: relayAddr, source: 'configured', reserved: true, lastError: null }),
    ]);
    expect(ContractNodeStatus.parse(status)).toEqual(status);
  });

  it('keeps a reservation on each of two relays, and names both in its card', async () => {
    const both = [await startRelay([], 'relay-1'), await startRelay([], 'relay-2')];
    const a = await startHidden('relay-erin', both, 'relay-frank');
    nodes = [a];
    // Two reservations asked for at once left the second made but never listened on.
    const reserved = await waitFor('both reservations', () => {
      const r = a.network.status().reachability.relays;
      return r.length === 2 && r.every((x) => x.reserved) ? r : undefined;
    });
    expect(reserved.map((r) => r.address).sort()).toEqual([...both].sort());
    const card = await waitFor('a card naming both relays', async () => {
      const c = await a.network.findSigner(a.signer.publicKey);
      return c !== undefined && both.every((r) => c.multiaddrs.some((m) => m.startsWith(`${r}/p2p-circuit`))) ? c : undefined;
    });
    expect(card.multiaddrs).toHaveLength(2);
  });

  it('refuses a reservation to a node the relay does not allow, and says why in the status', async () => {
    const relayAddr = await startRelay(['12D3KooWNotThisOneNotThisOneNotThisOneNotThisOne1']);
    const a = await startHidden('relay-carol', relayAddr, 'relay-dave');
    nodes = [a];
    const state = await waitFor('a failed reservation', () => a.network.status().reachability.relays.find((r) => r.lastError !== null));
    expect(state.reserved).toBe(false);
    expect(a.network.status().reachability.status).toBe('private');
  });
});
