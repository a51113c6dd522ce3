import { describe, expect, it } from 'vitest';
import { GroupPolicy } from '../../../preload/contract.ts';
import { blocksInDays, daysToBlocks, hasScriptTree, lossWords, policyOf, policyWords } from '../../../renderer/src/lib/group-policy.ts';

const K = '02' + '11'.repeat(32);
const choice = { kind: 'n-of-n' as const, k: 2, recovery: false, recoveryKeys: [] as string[], recoveryDays: 30 };

describe('group policies in words', () => {
  it('give a recovery wait in days at 10 minutes a block', () => {
    expect(blocksInDays(144)).toBe('about 1 day');
    expect(blocksInDays(4320)).toBe('about 30 days');
    expect(blocksInDays(52_560)).toBe('about 365 days');
    expect(blocksInDays(12)).toBe('about 2 hours');
    expect(daysToBlocks(30)).toBe(4320);
    expect(daysToBlocks(456)).toBeNull();
    expect(daysToBlocks(0)).toBeNull();
  });

  it('say what losing a key means for n-of-n and k-of-n', () => {
    expect(lossWords({ kind: 'n-of-n' }, 3)).toBe(
      'If any one of the 3 signers loses their key and its backup words, the coins in this group can never be spent.',
    );
    expect(lossWords({ kind: 'k-of-n', k: 2 }, 3)).toBe(
      'The coins stay spendable if up to 1 signer loses their key; if 2 do, they are lost.',
    );
    expect(lossWords({ kind: 'n-of-n', recovery: { keys: [K], olderBlocks: 144 } }, 2)).toMatch(
      /unless the recovery key spends them after the wait\.$/,
    );
    expect(policyWords({ kind: 'k-of-n', k: 2, recovery: { keys: [K], olderBlocks: 4320 } }, 3)).toBe(
      'any 2 of 3 signers; or a recovery key once coins are 4320 blocks (about 30 days) old',
    );
    expect(policyWords(undefined, 2)).toBe('all 2 signers');
  });

  it('turn the editor’s choices into a policy the contract accepts, or a reason', () => {
    expect(policyOf(choice, 2)).toEqual({ policy: { kind: 'n-of-n' } });
    const two = policyOf({ ...choice, kind: 'k-of-n', recovery: true, recoveryKeys: [K] }, 3);
    expect(two).toEqual({ policy: { kind: 'k-of-n', k: 2, recovery: { keys: [K], olderBlocks: 4320 } } });
    expect(GroupPolicy.parse((two as { policy: unknown }).policy)).toEqual((two as { policy: unknown }).policy);
    expect(hasScriptTree((two as { policy: GroupPolicy }).policy)).toBe(true);
    expect(policyOf({ ...choice, kind: 'k-of-n' }, 2)).toEqual({ problem: 'Any k of n needs 3 to 7 signers.' });
    expect(policyOf({ ...choice, kind: 'k-of-n', k: 3 }, 3)).toEqual({ problem: 'k is 2 to 2.' });
    expect(policyOf({ ...choice, recovery: true }, 2)).toEqual({ problem: 'Give the recovery key.' });
  });
});
