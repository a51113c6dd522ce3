import { describe, expect, it } from 'vitest';
import { checkTimestamp, nextSequence, SequenceTracker, type ReplayOptions } from '../../../main/session/replay-guard.ts';
import { MAX_U32 } from '../../../main/session/limits.ts';

const ON: ReplayOptions = { enableReplayProtection: true, maxSequenceGap: 100, timestampWindowMs: 300_000 };

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
  return 'ok';
}

describe('sequence tracking', () => {
  it('initializes every signer at 0: the first number must be within the gap', () => {
    const t = new SequenceTracker(3, ON);
    expect(t.snapshot()).toEqual([0, 0, 0]);
    expect(code(() => t.accept(0, 1))).toBe('ok');
    expect(code(() => t.accept(1, 100))).toBe('ok');
    expect(code(() => t.accept(2, 101))).toBe('SEQUENCE_GAP');
    expect(t.snapshot()).toEqual([1, 100, 0]);
  });

  it('tracks each signer separately and rejects a repeat or an older number', () => {
    const t = new SequenceTracker(2, ON);
    t.accept(0, 5);
    expect(code(() => t.accept(1, 1))).toBe('ok');
    expect(code(() => t.accept(0, 5))).toBe('REPLAYED');
    expect(code(() => t.accept(0, 4))).toBe('REPLAYED');
    expect(code(() => t.accept(0, 6))).toBe('ok');
    expect(code(() => t.accept(1, 1))).toBe('REPLAYED');
    expect(code(() => t.accept(2, 1))).toBe('NOT_A_SIGNER');
  });

  it('rejects gaps over maxSequenceGap, accepts exactly the gap', () => {
    const t = new SequenceTracker(1, { ...ON, maxSequenceGap: 10 });
    t.accept(0, 3);
    expect(code(() => t.accept(0, 14))).toBe('SEQUENCE_GAP');
    expect(code(() => t.accept(0, 13))).toBe('ok');
    // a rejected number does not move the window
    expect(t.snapshot()).toEqual([13]);
  });

  it('handles the top of the u32 range: nothing after MAX_U32, and a sender cannot go past it', () => {
    const t = new SequenceTracker(1, ON, [MAX_U32 - 1]);
    expect(code(() => t.accept(0, MAX_U32))).toBe('ok');
    expect(code(() => t.accept(0, MAX_U32))).toBe('REPLAYED');
    expect(nextSequence(MAX_U32 - 1)).toBe(MAX_U32);
    expect(code(() => nextSequence(MAX_U32))).toBe('LIMIT_REACHED');
  });

  it('isolates sessions: each has its own tracker', () => {
    const one = new SequenceTracker(2, ON);
    const two = new SequenceTracker(2, ON);
    one.accept(1, 50);
    expect(code(() => two.accept(1, 1))).toBe('ok');
    expect(code(() => one.accept(1, 1))).toBe('REPLAYED');
  });

  it('restores what a record kept', () => {
    const t = new SequenceTracker(2, ON, [4, 9]);
    expect(code(() => t.accept(0, 4))).toBe('REPLAYED');
    expect(code(() => t.accept(1, 10))).toBe('ok');
  });

  it('accepts anything when replay protection is disabled', () => {
    const t = new SequenceTracker(1, { ...ON, enableReplayProtection: false });
    t.accept(0, 5);
    expect(code(() => t.accept(0, 5))).toBe('ok');
    expect(code(() => t.accept(0, 5000))).toBe('ok');
    expect(code(() => checkTimestamp(0, 10 ** 12, { ...ON, enableReplayProtection: false }))).toBe('ok');
  });
});

describe('timestamp window', () => {
  it('accepts up to the window on both sides and nothing beyond', () => {
    const now = 1_000_000_000;
    expect(code(() => checkTimestamp(now - 300_000, now, ON))).toBe('ok');
    expect(code(() => checkTimestamp(now + 300_000, now, ON))).toBe('ok');
    expect(code(() => checkTimestamp(now - 300_001, now, ON))).toBe('TIMESTAMP_OUT_OF_WINDOW');
    expect(code(() => checkTimestamp(now + 300_001, now, ON))).toBe('TIMESTAMP_OUT_OF_WINDOW');
  });
});
