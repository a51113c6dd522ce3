/** The coordinator's `knownGroup` port for tests: the groups a node's user would have saved. */
import { bytesToHex } from '@noble/hashes/utils.js';
import type { GroupById, SavedGroup } from '../../main/session/ports.ts';
import { describePolicyGroup } from '../../main/wallet/policy-group.ts';

const setKey = (keys: readonly Uint8Array[]): string =>
  keys
    .map((k) => bytesToHex(k))
    .sort()
    .join(',');

/** True for exactly these key sets, in any order. */
export function knownGroups(groups: readonly (readonly Uint8Array[])[]): (signers: readonly Uint8Array[]) => boolean {
  const known = new Set(groups.map(setKey));
  return (signers) => known.has(setKey(signers));
}

/** The coordinator's `groupById` port for tests: these groups (keys and policy) under their ids. */
export function groupsById(groups: readonly SavedGroup[]): GroupById {
  const byId = new Map(groups.map((g) => [describePolicyGroup('', g.publicKeys, 'regtest', g.policy).id, g]));
  return (id) => byId.get(id);
}
