/**
 * The spending path a new request uses, from the caller's choice (SpendPathInput) and the group: who
 * is asked, and what the announcement names (docs/PROTOCOL.md §Group path).
 */
import type { Group, SpendPathInput } from '../../preload/contract.ts';
import { CosignerError } from '../errors.ts';
import { groupOutputs, keyPathOnlyGroup } from '../wallet/policy-group.ts';
import { KEY_PATH, type SpendPath } from '../wallet/spend-path.ts';

export interface RequestPath {
  /** The keys asked (33-byte hex): the path's signers. */
  signers: readonly string[];
  tweak: 'taproot' | 'path';
  group?: { id: string; path: SpendPath };
}

/**
 * The key path of an n-of-n group with no tree is asked as before group paths existed (tweak
 * 'taproot', no group section), so that an older co-signer still reads it: it names the same key.
 * Every other request names its group and path; a group with a tree is never asked the legacy way,
 * which would sign for the n-of-n address of its keys instead of the group's.
 */
export function requestPath(group: Group, input: SpendPathInput | undefined): RequestPath {
  const outputs = groupOutputs(group);
  if (input === undefined || input.kind === 'key') {
    if (keyPathOnlyGroup(group)) return { signers: group.publicKeys, tweak: 'taproot' };
    return { signers: group.publicKeys, tweak: 'path', group: { id: group.id, path: KEY_PATH } };
  }
  const leaves = outputs.at([], group.network).leaves;
  let leaf: number;
  let wanted: string[] | undefined;
  if ('signers' in input) {
    const keys = input.signers.map((k) => k.toLowerCase()).sort();
    wanted = keys;
    leaf = leaves.findIndex((l) => l.signers.length === keys.length && l.signers.every((k, i) => k === keys[i]));
  } else {
    leaf = input.leaf;
  }
  const chosen = leaves[leaf];
  if (chosen === undefined) {
    throw new CosignerError(
      'WRONG_PATH',
      wanted === undefined ? `this group has no leaf ${leaf}` : 'no leaf of this group has exactly these signers',
      {
        id: group.id,
      },
    );
  }
  return { signers: chosen.signers, tweak: 'path', group: { id: group.id, path: { kind: 'leaf', leaf } } };
}
