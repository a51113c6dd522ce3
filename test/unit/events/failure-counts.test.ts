import { describe, expect, it } from 'vitest';
import { FailureCounts } from '../../../main/failure-counts.ts';

describe('FailureCounts', () => {
  it('counts every failure by where it happened, and logs the first and then each doubling', () => {
    const lines: string[] = [];
    const failures = new FailureCounts((line) => lines.push(line));
    for (let i = 0; i < 9; i++) failures.record('card publish', new Error(`boom ${i + 1}`));
    failures.record('peer-store merge', 'not an Error');
    expect(failures.snapshot()).toEqual({ 'card publish': 9, 'peer-store merge': 1 });
    expect(lines).toEqual([
      'card publish failed (1 so far): boom 1',
      'card publish failed (2 so far): boom 2',
      'card publish failed (4 so far): boom 4',
      'card publish failed (8 so far): boom 8',
      'peer-store merge failed (1 so far): not an Error',
    ]);
  });
});
