/**
 * Co-signers that met through a relay have no DHT peers (kad-dht does not use limited connections):
 * a delivery retry refreshes the recipient's card from the DHT, and kad-dht held that lookup until a
 * peer appeared, so every attempt after the first spent its whole deadline there and never dialled.
 * Found by test/integration/nat/public-rendezvous.test.ts; a lookup with nobody to ask now answers
 * at once, and the card held stays in use.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FAST_TIMEOUTS, startNode, stopAll } from './harness.ts';
import type { TestNode } from './harness.ts';

let nodes: TestNode[] = [];
afterEach(async () => {
  await stopAll(nodes);
  nodes = [];
});

describe('a node whose DHT has no peers', () => {
  it('answers a refreshing card lookup at once, with the card it holds', async () => {
    const a = await startNode('alone');
    nodes = [a];
    const started = Date.now();
    const card = await a.network.findSigner(a.signer.publicKey, { refresh: true });
    const took = Date.now() - started;
    expect(card?.peerId).toBe(a.network.peerId);
    // Far below the DHT deadline the lookup was given (FAST_TIMEOUTS.dhtMs).
    expect(took).toBeLessThan(FAST_TIMEOUTS.dhtMs / 5);
  });
});
