/**
 * The paths the New request screen offers for a k-of-n group: the key path and every leaf the user
 * is on, each of which the back end resolves to exactly those signers (main/handlers/session-path.ts).
 */
import { describe, expect, it } from 'vitest';
import { requestPath } from '../../../main/handlers/session-path.ts';
import { describePolicyGroup } from '../../../main/wallet/policy-group.ts';
import { choiceId, pathChoices } from '../../../renderer/src/lib/spend-paths.ts';
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
});
