/**
 * Sessions of 2..16 signers over the seeded in-process transport: they complete with the same valid
 * signature everywhere when frames are reordered and duplicated, and end cleanly (never hang) when
 * frames are lost.
 */
import { hexToBytes } from '@noble/hashes/utils.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTerminal } from '../../../main/session/state.ts';
import { verifiesAsBip322 } from '../../support/bip322-check.ts';
import { Cluster } from '../../support/session-cluster.ts';

async function session(c: Cluster): Promise<string> {
  await c.start();
  const s = await c.create(0, {
    payload: {
      kind: 'batch',
      items: [
        { message: 'aa'.repeat(32), label: 'one' },
        { message: 'bb'.repeat(32), label: 'two' },
      ],
    },
  });
  await c.runUntil(() => c.nodes.slice(1).every((n) => n.requests.length === 1), 10 * 60_000);
  for (const n of c.nodes.slice(1)) if (n.requests.length === 1) await n.coordinator.approve(s.sessionId);
  return s.sessionId;
}

describe('sessions over an unreliable network', () => {
  it('complete for 2..16 signers under reordering and duplication', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 16 }), fc.integer({ min: 0, max: 1 << 30 }), async (size, seed) => {
        const c = new Cluster(size, { seed: `reorder-${seed}`, faults: { drop: 0, duplicate: 0.3, minDelayMs: 0, maxDelayMs: 2_000 } });
        const id = await session(c);
        expect(await c.runUntilPhase(id, ['COMPLETE'], 10 * 60_000)).toBe(true);
        const reference = c.snapshot(0, id)!;
        for (const node of c.nodes) {
          const snap = c.snapshot(node.index, id)!;
          expect(snap.signatures).toEqual(reference.signatures);
          expect(node.coordinator.health().storageFailures).toBe(0);
        }
        expect(verifiesAsBip322(reference, hexToBytes(reference.signingKey))).toBe(true);
      }),
      { numRuns: 3, examples: [[16, 1]] },
    );
  });

  it('end cleanly under loss: every node reaches a final phase by the deadline, with a reason', async () => {
    for (const drop of [0.3, 1]) {
      const c = new Cluster(4, { seed: `loss-${drop}`, faults: { drop, duplicate: 0.1, minDelayMs: 0, maxDelayMs: 500 } });
      const id = await session(c);
      const deadline = 60 * 60_000 + 60_000; // default expiry plus one cleanup interval
      const ended = () =>
        c.nodes.every((n) => {
          const snap = c.snapshot(n.index, id);
          return snap === undefined || isTerminal(snap.phase);
        });
      expect(await c.runUntil(ended, deadline), `drop ${drop}`).toBe(true);
      for (const n of c.nodes) {
        const snap = c.snapshot(n.index, id);
        if (snap === undefined) continue;
        if (snap.phase === 'COMPLETE') continue;
        expect(['ABORTED', 'EXPIRED']).toContain(snap.phase);
        expect(snap.failure!.code).toMatch(/^(SESSION_STUCK|EXPIRED|ABORTED)$/);
        expect(snap.failure!.blame.length).toBeGreaterThan(0);
      }
      expect(c.snapshot(0, id)).toBeDefined();
      for (const n of c.nodes) expect(n.coordinator.health().oldestSessionAgeMs).toBeNull();
    }
  });
});
