/**
 * Who a new request asks, from the caller's choice of path (docs/API.md sessions.create `path`): a
 * group with a tree is never asked the legacy way, and a leaf is found by its index or its signers.
 */
import { describe, expect, it } from 'vitest';
import { requestPath } from '../../../main/handlers/session-path.ts';
import { describePolicyGroup } from '../../../main/wallet/policy-group.ts';
import { CreateSessionInput, SpendPathInput } from '../../../preload/contract.ts';
import { testSigner } from '../../support/signers.ts';

const keys = ['a', 'b', 'c'].map((l) => testSigner(`session-path/${l}`).hex);
const sorted = [...keys].sort();
const twoOfThree = describePolicyGroup('two', keys, 'regtest', { kind: 'k-of-n', k: 2 });
const nOfN = describePolicyGroup('all', keys, 'regtest');

describe('the path of a new request', () => {
  it('is the legacy n-of-n request for a group without a tree, by default or when the key path is asked', () => {
    for (const path of [undefined, { kind: 'key' as const }]) {
      expect(requestPath(nOfN, path)).toEqual({ signers: nOfN.publicKeys, tweak: 'taproot' });
    }
  });

  it('names the key path of a k-of-n group, all n asked, by default', () => {
    expect(requestPath(twoOfThree, undefined)).toEqual({
      signers: twoOfThree.publicKeys,
      tweak: 'path',
      group: { id: twoOfThree.id, path: { kind: 'key' } },
    });
  });

  it('finds a leaf by its index or by its signers’ keys, in any order and case', () => {
    const byIndex = requestPath(twoOfThree, { kind: 'leaf', leaf: 1 });
    expect(byIndex).toEqual({
      signers: [sorted[0], sorted[2]],
      tweak: 'path',
      group: { id: twoOfThree.id, path: { kind: 'leaf', leaf: 1 } },
    });
    expect(requestPath(twoOfThree, { kind: 'leaf', signers: [sorted[2]!.toUpperCase(), sorted[0]!] })).toEqual(byIndex);
  });

  it('refuses a leaf the group does not have, by index or by signers (WRONG_PATH)', () => {
    expect(() => requestPath(twoOfThree, { kind: 'leaf', leaf: 3 })).toThrow(expect.objectContaining({ code: 'WRONG_PATH' }));
    expect(() => requestPath(twoOfThree, { kind: 'leaf', signers: keys })).toThrow(expect.objectContaining({ code: 'WRONG_PATH' }));
    expect(() => requestPath(nOfN, { kind: 'leaf', leaf: 0 })).toThrow(expect.objectContaining({ code: 'WRONG_PATH' }));
  });

  it('is one of three shapes in the contract, nothing in between', () => {
    expect(SpendPathInput.safeParse({ kind: 'leaf', leaf: 0, signers: [sorted[0]] }).success).toBe(false);
    expect(SpendPathInput.safeParse({ kind: 'leaf' }).success).toBe(false);
    expect(SpendPathInput.safeParse({ kind: 'key', leaf: 0 }).success).toBe(false);
    expect(SpendPathInput.safeParse({ kind: 'leaf', leaf: 256 }).success).toBe(false);
    const input = CreateSessionInput.parse({ groupId: twoOfThree.id, message: { kind: 'text', text: 'hi' } });
    expect(input.path).toBeUndefined();
  });
});
