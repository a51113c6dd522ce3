/**
 * Blame is shown as a verdict only where this node checked it: a remote ABORT's blame list is its
 * sender's claim, carried as such (`verified: false`, `reportedBy` the claimant) on every other node.
 */
import { describe, expect, it } from 'vitest';
import { Cluster } from '../../support/session-cluster.ts';
import { resign, sentFrames } from '../../support/session-forge.ts';

async function pending(c: Cluster) {
  const s = await c.create(0, {}, c.nodes.length);
  await c.runUntil(() => c.nodes.slice(1).every((n) => n.requests.some((r) => r.sessionId === s.sessionId)));
  return s;
}

describe('blame on hearsay', () => {
  it("keeps a malicious signer's ABORT blaming an honest signer a claim, on every node", async () => {
    const c = new Cluster(3, { seed: 'hearsay' });
    await c.start();
    const s = await pending(c);
    await c.nodes[1]!.coordinator.approve(s.sessionId);
    await c.runUntil(() => c.snapshot(0, s.sessionId)!.signers[1]!.approved && c.snapshot(2, s.sessionId)!.signers[1]!.approved);
    // Mallory (signer 1) says honest Carol (signer 2) sent an invalid partial signature; nobody checked.
    const approve = sentFrames(c.net, { from: 'peer-1', type: 'approve' });
    for (const { frame, to } of approve) {
      const forged = resign(frame, c.nodes[1]!.signer.secret, (m) => ({
        ...m,
        sequence: m.sequence + 1,
        body: { type: 'abort', code: 'INVALID_PARTIAL_SIGNATURE', blame: [2], reason: 'signer 2 sent an invalid partial signature' },
      }));
      c.net.deliver(to, forged, 'peer-1');
    }
    expect(await c.runUntil(() => [0, 2].every((i) => c.snapshot(i, s.sessionId)!.phase === 'ABORTED'))).toBe(true);
    for (const i of [0, 2]) {
      expect(c.snapshot(i, s.sessionId)!.failure).toMatchObject({
        code: 'INVALID_PARTIAL_SIGNATURE',
        blame: [2],
        reportedBy: 1,
        verified: false,
      });
    }
    // Stored as a claim: a restart does not turn it into a verdict.
    const restarted = await c.restart(c.nodes[0]!);
    expect((await restarted.get(s.sessionId))?.failure).toMatchObject({ blame: [2], reportedBy: 1, verified: false });
    // A record written before `verified` existed reads a remote end as a claim too.
    const store = c.nodes[2]!.store;
    const [key] = (await store.keys()).filter((k) => k.includes(s.sessionId));
    const record = (await store.get(key!)) as { failure: Record<string, unknown> };
    delete record.failure.verified;
    await store.put(key!, record as never);
    const legacy = await c.restart(c.nodes[2]!);
    expect((await legacy.get(s.sessionId))?.failure).toMatchObject({ blame: [2], reportedBy: 1, verified: false });
  });

  it('marks what this node checked itself as verified: an invalid partial signature, a decline, a timeout', async () => {
    const c = new Cluster(2, { seed: 'verified-decline' });
    await c.start();
    const s = await pending(c);
    await c.nodes[1]!.coordinator.decline(s.sessionId, 'no');
    expect(await c.runUntil(() => c.snapshot(0, s.sessionId)!.phase === 'DECLINED')).toBe(true);
    expect(c.snapshot(0, s.sessionId)!.failure).toMatchObject({ code: 'DECLINED', blame: [1], reportedBy: 1, verified: true });
    expect(c.snapshot(1, s.sessionId)!.failure).toMatchObject({ code: 'DECLINED', blame: [1], reportedBy: 1, verified: true });

    const e = new Cluster(2, { seed: 'verified-expiry' });
    await e.start();
    const t = await pending(e);
    expect(await e.runUntil(() => e.snapshot(0, t.sessionId)!.phase === 'EXPIRED', 3 * 3600_000)).toBe(true);
    expect(e.snapshot(0, t.sessionId)!.failure).toMatchObject({ code: 'EXPIRED', blame: [1], reportedBy: 0, verified: true });
  });
});
