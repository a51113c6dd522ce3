/**
 * The paths the New request screen offers for a k-of-n group: the key path and every leaf the user
 * is on, each of which the back end resolves to exactly those signers (main/handlers/session-path.ts).
 */
import { describe, expect, it } from 'vitest';
import { requestPath } from '../../../main/handlers/session-path.ts';
import { describePolicyGroup } from '../../../main/wallet/policy-group.ts';
import { blocksInWords, choiceId, pathChoices, recoveryAlone } from '../../../renderer/src/lib/spend-paths.ts';
import { testSigner } from '../../support/signers.ts';

const keys = ['a', 'b', 'c', 'd', 'e'].map((l) => testSigner(`spend-paths/${l}`).hex);

describe('the spending paths offered to a creator', () => {
  it.each([
    [2, 3, 1 + 2],
    [3, 5, 1 + 6],
    [4, 5, 1 + 4],
  ])('%i-of-%i: the key path and the C(n-1, k-1) leaves the creator is on, each resolved by the back end to its signers', (k, n, count) => {
    const group = describePolicyGroup('g', keys.slice(0, n), 'regtest', { kind: 'k-of-n', k });
    const me = keys[1]!;
    const choices = pathChoices(group, me);
    expect(choices).toHaveLength(count);
    expect(choices[0]).toMatchObject({ id: 'key', path: { kind: 'key' }, notNeeded: [] });
    for (const choice of choices.slice(1)) {
      expect(choice.signers).toContain(me);
      expect(choice.signers).toHaveLength(k);
      expect([...choice.signers, ...choice.notNeeded].sort()).toEqual([...group.publicKeys].sort());
      expect(requestPath(group, choice.path).signers).toEqual(choice.signers);
    }
    // A path handed over with a built PSBT finds its choice again.
    for (const choice of choices) expect(choiceId(choice.path)).toBe(choice.id);
    expect(new Set(choices.map((c) => c.id)).size).toBe(count);
  });

  it('offers nothing to choose for an n-of-n group, or without a key', () => {
    expect(pathChoices(describePolicyGroup('g', keys.slice(0, 3), 'regtest'), keys[0])).toEqual([]);
    expect(pathChoices(describePolicyGroup('g', keys.slice(0, 3), 'regtest', { kind: 'k-of-n', k: 2 }), undefined)).toEqual([]);
  });

  it('offers the recovery leaf, last, to a holder of one of its several keys: the back end resolves it to the recovery leaf, even when its keys are a subset', () => {
    const outsider = testSigner('spend-paths/outsider').hex;
    const cases = [
      { k: 2, n: 3, recovery: [keys[1]!, outsider], leaves: 3 },
      // The recovery keys are exactly a subset's: asked by its index, not by signers.
      { k: 2, n: 3, recovery: [keys[0]!, keys[1]!], leaves: 3 },
      { k: 3, n: 3, recovery: [keys[1]!, outsider], leaves: 0, nOfN: true },
    ];
    for (const c of cases) {
      const policy = c.nOfN
        ? ({ kind: 'n-of-n', recovery: { keys: c.recovery, olderBlocks: 4320 } } as const)
        : ({ kind: 'k-of-n', k: c.k, recovery: { keys: c.recovery, olderBlocks: 4320 } } as const);
      const group = describePolicyGroup('g', keys.slice(0, c.n), 'regtest', policy);
      const choices = pathChoices(group, keys[1]);
      const last = choices[choices.length - 1]!;
      expect(last).toMatchObject({ path: { kind: 'leaf', leaf: c.leaves }, olderBlocks: 4320, signers: [...c.recovery].sort() });
      const resolved = requestPath(group, last.path);
      expect(resolved.signers).toEqual([...c.recovery].sort());
      expect(resolved.group?.path).toEqual({ kind: 'leaf', leaf: c.leaves });
      expect(choiceId(last.path)).toBe(last.id);
      expect(recoveryAlone(group, keys[1])).toBeUndefined();
      // Not one of the recovery keys: no recovery choice.
      expect(pathChoices(group, keys[2]).some((choice) => choice.olderBlocks !== undefined)).toBe(false);
    }
  });

  it('never offers a single recovery key as a session path: its holder signs alone over the last leaf', () => {
    const group = describePolicyGroup('g', keys.slice(0, 3), 'regtest', {
      kind: 'k-of-n',
      k: 2,
      recovery: { keys: [keys[1]!], olderBlocks: 144 },
    });
    expect(pathChoices(group, keys[1]).some((choice) => choice.olderBlocks !== undefined)).toBe(false);
    const alone = recoveryAlone(group, keys[1])!;
    expect(alone).toEqual({ path: { kind: 'leaf', leaf: 3 }, olderBlocks: 144 });
    expect(requestPath(group, alone.path).signers).toEqual([keys[1]]);
    expect(recoveryAlone(group, keys[0])).toBeUndefined();
    expect(blocksInWords(144)).toBe('about 1 day');
    expect(blocksInWords(4320)).toBe('about 30 days');
    expect(blocksInWords(12)).toBe('about 2 hours');
  });
});
