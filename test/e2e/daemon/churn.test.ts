import { afterAll, describe, expect, it } from 'vitest';
import { startChurn, type Churn } from '../../support/churn.ts';

// Two `cosigner serve` processes signing messages back to back (B with --auto-approve), faster than
// B takes frames from one peer: B slows A down but never bans it, and every session completes.
// `npm run bench churn` runs 1 000 of them and prints the same table.
describe('session churn between two daemons', () => {
  let churn: Churn | undefined;
  afterAll(async () => {
    await churn?.stop();
  });

  it('200 message sessions back to back all complete, with memory flat after warm-up', async () => {
    churn = await startChurn();
    const samples = await churn.run(200, 50, (s) => console.log(JSON.stringify(s)));
    console.table(samples);
    expect(samples.map((s) => s.sessions)).toEqual([50, 100, 150, 200]);
    const status = await churn.cb.bridge.call('node.status', {});
    expect(status.bansIssued).toBe(0);
    // After the first block (key tables, connections, JIT), no block is much heavier than the second.
    // (Time per session is printed, not asserted: on a shared machine it follows the load of others.)
    const [, second, ...later] = samples;
    for (const s of later) {
      expect(s.rssMbA).toBeLessThan(second!.rssMbA + 100);
      expect(s.rssMbB).toBeLessThan(second!.rssMbB + 100);
    }
  }, 240_000);
});
