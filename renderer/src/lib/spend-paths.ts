/**
 * The spending paths a creator can ask a k-of-n group to sign by (docs/API.md *Spending paths*):
 * the key path (all n: the cheapest spend) and each k-subset leaf the creator is on. The leaves are
 * the k-subsets of the sorted keys in canonical order, as the back end orders them; a leaf is sent
 * by its signers' keys, which the back end matches to its index itself.
 */
import type { Group, SpendPathInput } from '../../../preload/contract.ts';

export interface PathChoice {
  /** 'key', or the leaf's signers joined by commas. */
  id: string;
  path: SpendPathInput;
  /** Who is asked (sorted keys). */
  signers: readonly string[];
  /** The group's keys not asked. */
  notNeeded: readonly string[];
}

/** The id of the choice that is `path` ('key', or a leaf by its signers as pathChoices names them). */
export function choiceId(path: SpendPathInput): string {
  if (path.kind === 'key') return 'key';
  return 'signers' in path ? path.signers.join(',') : `leaf ${path.leaf}`;
}

/** Every k-subset of 0..n-1 in lexicographic order. */
function subsets(n: number, k: number): number[][] {
  if (k === 0) return [[]];
  const out: number[][] = [];
  for (let first = 0; first <= n - k; first++) {
    for (const rest of subsets(n - first - 1, k - 1)) out.push([first, ...rest.map((i) => i + first + 1)]);
  }
  return out;
}

/** The choices for `group`, none for a group that is not k-of-n (it has one way to sign: all of it). */
export function pathChoices(group: Pick<Group, 'publicKeys' | 'policy'>, myKey: string | undefined): PathChoice[] {
  const policy = group.policy;
  if (policy?.kind !== 'k-of-n' || myKey === undefined) return [];
  const sorted = [...group.publicKeys].sort();
  const keyPath: PathChoice = { id: 'key', path: { kind: 'key' }, signers: sorted, notNeeded: [] };
  const leaves = subsets(sorted.length, policy.k)
    .map((positions) => positions.map((i) => sorted[i] as string))
    .filter((signers) => signers.includes(myKey))
    .map((signers): PathChoice => {
      const path: SpendPathInput = { kind: 'leaf', signers };
      return { id: choiceId(path), path, signers, notNeeded: sorted.filter((k) => !signers.includes(k)) };
    });
  return [keyPath, ...leaves];
}
