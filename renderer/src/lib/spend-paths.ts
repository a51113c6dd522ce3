/**
 * The spending paths a creator can ask a group with a policy to sign by (docs/API.md *Spending
 * paths*): the key path (all n: the cheapest spend), each k-subset leaf the creator is on, and the
 * recovery leaf when the creator is one of its several keys. The leaves are the k-subsets of the
 * sorted keys in canonical order, as the back end orders them, then the recovery leaf; a subset leaf
 * is sent by its signers' keys, which the back end matches to its index itself, the recovery leaf by
 * its index (last), since its keys may be a subset's too. A single recovery key is no session: it
 * signs alone (recoveryAlone, the Send form).
 */
import type { Group, GroupPolicy, SpendPathInput } from '../../../preload/contract.ts';

export interface PathChoice {
  /** 'key', or the leaf's signers joined by commas. */
  id: string;
  path: SpendPathInput;
  /** Who is asked (sorted keys). */
  signers: readonly string[];
  /** The group's keys not asked. */
  notNeeded: readonly string[];
  /** Set for the recovery leaf: its coins are spendable only once this many blocks old. */
  olderBlocks?: number;
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

/** The number of subset leaves of `policy` for n keys: C(n, k) for k-of-n, none for n-of-n. */
function subsetCount(policy: GroupPolicy, n: number): number {
  return policy.kind === 'k-of-n' ? subsets(n, policy.k).length : 0;
}

/**
 * The choices for `group`: none for a group with nothing to choose (n-of-n without a recovery leaf
 * the user signs in, or no key).
 */
export function pathChoices(group: Pick<Group, 'publicKeys' | 'policy'>, myKey: string | undefined): PathChoice[] {
  const policy = group.policy;
  if (policy === undefined || myKey === undefined) return [];
  const sorted = [...group.publicKeys].sort();
  const keyPath: PathChoice = { id: 'key', path: { kind: 'key' }, signers: sorted, notNeeded: [] };
  const leaves =
    policy.kind !== 'k-of-n'
      ? []
      : subsets(sorted.length, policy.k)
          .map((positions) => positions.map((i) => sorted[i] as string))
          .filter((signers) => signers.includes(myKey))
          .map((signers): PathChoice => {
            const path: SpendPathInput = { kind: 'leaf', signers };
            return { id: choiceId(path), path, signers, notNeeded: sorted.filter((k) => !signers.includes(k)) };
          });
  const recovery = policy.recovery;
  const recoverySigners = recovery && recovery.keys.length > 1 && recovery.keys.includes(myKey) ? [...recovery.keys].sort() : undefined;
  if (recoverySigners && recovery) {
    const path: SpendPathInput = { kind: 'leaf', leaf: subsetCount(policy, sorted.length) };
    leaves.push({
      id: choiceId(path),
      path,
      signers: recoverySigners,
      notNeeded: sorted.filter((k) => !recoverySigners.includes(k)),
      olderBlocks: recovery.olderBlocks,
    });
  }
  if (policy.kind !== 'k-of-n' && leaves.length === 0) return [];
  return [keyPath, ...leaves];
}

/**
 * The recovery leaf when it is `myKey` alone: no session, the key signs by itself
 * (psbt.signRecovery), once the coins are old enough. Undefined otherwise.
 */
export function recoveryAlone(
  group: Pick<Group, 'publicKeys' | 'policy'>,
  myKey: string | undefined,
): { path: SpendPathInput; olderBlocks: number } | undefined {
  const policy = group.policy;
  const recovery = policy?.recovery;
  if (policy === undefined || recovery === undefined || recovery.keys.length !== 1 || recovery.keys[0] !== myKey) return undefined;
  return { path: { kind: 'leaf', leaf: subsetCount(policy, group.publicKeys.length) }, olderBlocks: recovery.olderBlocks };
}

/** About how long `blocks` blocks take (10 minutes a block), in words. */
export function blocksInWords(blocks: number): string {
  const days = blocks / 144;
  if (days >= 1) return `about ${Math.round(days)} day${Math.round(days) === 1 ? '' : 's'}`;
  const hours = Math.max(1, Math.round(blocks / 6));
  return `about ${hours} hour${hours === 1 ? '' : 's'}`;
}
