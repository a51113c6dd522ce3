import { describe, expect, it } from 'vitest';
import { MAX_DELETIONS_PER_SWEEP, recordsToDelete, REPLAY_HORIZON_MS, type Retainable } from '../../../main/session/retention.ts';
import type { Phase } from '../../../main/session/state.ts';

const DAY = 24 * 3_600_000;
const NOW = 1_000 * DAY;
const policy = { maxAgeMs: 90 * DAY, maxRecords: 3, protectedMs: REPLAY_HORIZON_MS };

function entry(n: number, ageDays: number, phase: Phase = 'COMPLETE'): Retainable {
  return { sessionId: n.toString(16).padStart(64, '0'), createdAt: NOW - ageDays * DAY, phase };
}

describe('retention of session records', () => {
  it('deletes ended sessions past the retention age, oldest first', () => {
    const entries = [entry(1, 100), entry(2, 91), entry(3, 89)];
    expect(recordsToDelete(entries, NOW, { ...policy, maxRecords: 1000 })).toEqual([entry(1, 100).sessionId, entry(2, 91).sessionId]);
  });

  it('deletes the oldest ended sessions beyond the count, open ones counting but never chosen', () => {
    const entries = [
      entry(1, 10),
      entry(2, 20, 'AWAITING_APPROVAL'),
      entry(3, 30),
      entry(4, 40, 'NONCE_EXCHANGE'),
      entry(5, 50, 'DECLINED'),
    ];
    expect(recordsToDelete(entries, NOW, policy)).toEqual([entry(5, 50).sessionId]);
  });

  it('never deletes an open session, however old', () => {
    const open = (['AWAITING_APPROVAL', 'NONCE_EXCHANGE', 'PARTIAL_SIG_EXCHANGE'] as const).map((phase, i) => entry(i + 1, 500, phase));
    expect(recordsToDelete(open, NOW, { ...policy, maxRecords: 1 })).toEqual([]);
  });

  it('keeps every record within the replay horizon, whatever the count', () => {
    const entries = Array.from({ length: 10 }, (_, i) => entry(i + 1, 6));
    expect(recordsToDelete(entries, NOW, { ...policy, maxRecords: 1, maxAgeMs: DAY })).toEqual([]);
    expect(recordsToDelete(entries, NOW + DAY, { ...policy, maxRecords: 1 })).toHaveLength(9);
  });

  it('chooses at most one batch per sweep', () => {
    const entries = Array.from({ length: MAX_DELETIONS_PER_SWEEP + 10 }, (_, i) => entry(i + 1, 200 + i));
    const chosen = recordsToDelete(entries, NOW, policy);
    expect(chosen).toHaveLength(MAX_DELETIONS_PER_SWEEP);
    expect(chosen[0]).toBe(entry(MAX_DELETIONS_PER_SWEEP + 10, 200 + MAX_DELETIONS_PER_SWEEP + 9).sessionId);
  });
});
