/**
 * 1 000 message sessions back to back between two real `cosigner serve` processes (B with
 * --auto-approve), driven through the control API: memory (RSS) of each daemon, size of each data
 * directory and wall time per session, every 100 sessions. After warm-up the time and memory
 * columns should stay flat; the disk column grows by the session records kept (until retention
 * removes old ones). test/e2e/daemon/churn.test.ts runs a shorter version in the suite.
 */
import { startChurn } from '../support/churn.ts';

const SESSIONS = 1000;
const EVERY = 100;

export default async function bench(): Promise<void> {
  const churn = await startChurn();
  try {
    const started = performance.now();
    const samples = await churn.run(SESSIONS, EVERY, (s) =>
      console.log(`${s.sessions} sessions: ${s.msPerSession} ms each, RSS A ${s.rssMbA} MB, B ${s.rssMbB} MB`),
    );
    console.table(
      samples.map((s) => ({
        sessions: s.sessions,
        'ms / session': s.msPerSession,
        'RSS A MB': s.rssMbA,
        'RSS B MB': s.rssMbB,
        'disk A KB': s.diskKbA,
        'disk B KB': s.diskKbB,
      })),
    );
    const status = await churn.cb.bridge.call('node.status', {});
    console.log(
      `${SESSIONS} sessions in ${((performance.now() - started) / 1000).toFixed(0)} s; B refused ${status.rejectedFrames['rate-limited'] ?? 0} frames as rate-limited (back-pressure), issued ${status.bansIssued} bans`,
    );
  } finally {
    await churn.stop();
  }
}
