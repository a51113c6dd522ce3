import { describe, expect, it } from 'vitest';
import type { NonceEvidence } from '../../../main/session/codec.ts';
import {
  approve,
  canAct,
  complete,
  derivePhase,
  end,
  initialState,
  missing,
  recordNonces,
  recordPartials,
  startAttempt,
  timeoutOf,
  withPhase,
  type SessionState,
} from '../../../main/session/state.ts';

const T = 1_000_000;
const ev = (fill: number): NonceEvidence => ({
  sequence: 1,
  timestamp: T,
  signature: new Uint8Array(64),
  nonces: [new Uint8Array(66).fill(fill)],
});
const deadlines = { expiresAt: T + 3_600_000, stuckSessionTimeoutMs: 600_000 };

function allNonces(s: SessionState): SessionState {
  let out = s;
  for (let i = 0; i < s.nonces.length; i++) {
    const r = recordNonces(out, i, ev(i), T);
    if (r.kind === 'new') out = r.state;
  }
  return withPhase(out, T);
}

describe('session state', () => {
  it('starts awaiting approval with the creator approved', () => {
    const s = initialState(3, 1, T);
    expect(s.phase).toBe('AWAITING_APPROVAL');
    expect(s.approved).toEqual([false, true, false]);
    expect(missing(s)).toEqual([0, 2]);
  });

  it('moves through the phases as contributions come in', () => {
    let s = initialState(2, 0, T);
    s = withPhase(approve(s, 1, T + 1), T + 1);
    expect(s.phase).toBe('NONCE_EXCHANGE');
    expect(s.phaseSince).toBe(T + 1);
    s = allNonces(s);
    expect(s.phase).toBe('PARTIAL_SIG_EXCHANGE');
    const r = recordPartials(s, 0, [new Uint8Array(32)], T + 2);
    expect(r.kind).toBe('new');
    s = complete(s, [new Uint8Array(64)], T + 3);
    expect(s.phase).toBe('COMPLETE');
    expect(derivePhase(s)).toBe('COMPLETE');
  });

  it('treats nonces as approval, repeats as duplicates, different nonces as equivocation', () => {
    const s = initialState(2, 0, T);
    const first = recordNonces(s, 1, ev(1), T);
    if (first.kind !== 'new') throw new Error('expected new');
    expect(first.state.approved[1]).toBe(true);
    expect(recordNonces(first.state, 1, { ...ev(1), sequence: 9 }, T).kind).toBe('duplicate');
    expect(recordNonces(first.state, 1, ev(2), T).kind).toBe('equivocation');
    const p = recordPartials(first.state, 1, [new Uint8Array(32).fill(1)], T);
    if (p.kind !== 'new') throw new Error('expected new');
    expect(recordPartials(p.state, 1, [new Uint8Array(32).fill(1)], T).kind).toBe('duplicate');
    expect(recordPartials(p.state, 1, [new Uint8Array(32).fill(2)], T).kind).toBe('equivocation');
  });

  it('a new attempt forgets nonces and partials, keeps approvals, restarts the stuck timer', () => {
    let s = allNonces(withPhase(approve(initialState(2, 0, T), 1, T), T));
    s = startAttempt(s, 2, T + 500);
    expect(s.attempt).toBe(2);
    expect(s.nonces).toEqual([undefined, undefined]);
    expect(s.approved).toEqual([true, true]);
    expect(s.phase).toBe('NONCE_EXCHANGE');
    expect(s.phaseSince).toBe(T + 500);
  });

  it('cannot act in an attempt at or below the floor', () => {
    const s: SessionState = { ...initialState(2, 0, T), attemptFloor: 1 };
    expect(canAct(s)).toBe(false);
    expect(canAct(startAttempt(s, 2, T))).toBe(true);
  });

  it('expires at the deadline in any open phase, naming who it waited for', () => {
    const s = initialState(3, 0, T);
    expect(timeoutOf(s, 0, deadlines, deadlines.expiresAt - 1)).toBeUndefined();
    expect(timeoutOf(s, 0, deadlines, deadlines.expiresAt)).toEqual({
      phase: 'EXPIRED',
      failure: { code: 'EXPIRED', reason: 'expired in AWAITING_APPROVAL', blame: [1, 2], reportedBy: 0, verified: true },
    });
  });

  it('aborts a session stuck in an exchange phase, not one awaiting approval', () => {
    const waiting = initialState(2, 0, T);
    expect(timeoutOf(waiting, 0, deadlines, T + 600_000)).toBeUndefined();
    const exchanging = withPhase(approve(waiting, 1, T), T);
    expect(timeoutOf(exchanging, 0, deadlines, T + 599_999)).toBeUndefined();
    expect(timeoutOf(exchanging, 1, deadlines, T + 600_000)).toEqual({
      phase: 'ABORTED',
      failure: { code: 'SESSION_STUCK', reason: 'no progress in NONCE_EXCHANGE', blame: [0, 1], reportedBy: 1, verified: true },
    });
    const ended = end(exchanging, 'ABORTED', { code: 'ABORTED', reason: '', blame: [], reportedBy: 0, verified: true }, T);
    expect(timeoutOf(ended, 0, deadlines, T + 10 ** 9)).toBeUndefined();
  });

  it('increases the version on every change, and past the clock', () => {
    const s = initialState(2, 0, T);
    const a = approve(s, 1, T);
    const b = withPhase(a, T);
    expect(a.version).toBeGreaterThan(s.version);
    expect(b.version).toBeGreaterThan(a.version);
    expect(approve(b, 1, T)).toBe(b);
    expect(approve({ ...s, version: 5 }, 1, T + 10).version).toBe(T + 10);
  });
});
