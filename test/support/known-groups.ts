/** The coordinator's `knownGroup` port for tests: the groups a node's user would have saved. */
import { bytesToHex } from '@noble/hashes/utils.js';

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
