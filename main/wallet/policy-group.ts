/**
 * A group with its policy (threshold-policy.ts): its id, output key and address.
 *
 * The id must tell a 2-of-3 from a 3-of-3 of the same keys, yet every group saved before policies
 * existed (n-of-n, no recovery path) must keep its id: those ids name stored groups. So an n-of-n
 * group with no recovery path keeps `groupId` (a tagged hash of its sorted keys), and any other
 * policy is hashed under its own tag with the keys and an encoding of the policy; two tags cannot
 * give the same hash for different inputs short of a SHA-256 collision.
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import type { BitcoinNetwork, Group, GroupPolicy as PolicyView } from '../../preload/contract.ts';
import { describeGroup, groupId } from './group.ts';
import { GroupOutputs } from './threshold.ts';
import { N_OF_N, type GroupPolicy } from './threshold-policy.ts';

/** Whether a policy is the n-of-n key path alone: the only kind there was before policies. */
export function isKeyPathOnly(policy: GroupPolicy): boolean {
  return policy.kind === 'n-of-n' && policy.recovery === undefined;
}

/** Whether a group has no script tree (no policy, or n-of-n without a recovery path): it spends by its key path alone. */
export function keyPathOnlyGroup(group: Pick<Group, 'policy'>): boolean {
  return isKeyPathOnly(group.policy ?? N_OF_N);
}

/**
 * `sortedKeys` (33 bytes each) then one byte n, one byte kind (0 n-of-n, 1 k-of-n), one byte k
 * (0 for n-of-n), a 16-bit big-endian olderBlocks (0: no recovery path), one byte r and the r sorted
 * recovery keys. Every field has a fixed length or a count before it, so the encoding is unambiguous.
 */
export function policyGroupId(sortedKeys: readonly Uint8Array[], policy: GroupPolicy): string {
  if (isKeyPathOnly(policy)) return groupId(sortedKeys);
  const recovery = policy.recovery?.keys.map((k) => hexToBytes(k)) ?? [];
  const olderBlocks = policy.recovery?.olderBlocks ?? 0;
  const head = Uint8Array.of(
    sortedKeys.length,
    policy.kind === 'n-of-n' ? 0 : 1,
    policy.kind === 'k-of-n' ? policy.k : 0,
    olderBlocks >> 8,
    olderBlocks & 0xff,
    recovery.length,
  );
  return bytesToHex(schnorr.utils.taggedHash('Cosigner/group-policy', ...sortedKeys, head, ...recovery));
}

/** The contract's view of a checked policy (recovery keys sorted, as checkPolicy leaves them). */
function policyView(policy: GroupPolicy): PolicyView {
  const recovery = policy.recovery ? { recovery: { keys: [...policy.recovery.keys], olderBlocks: policy.recovery.olderBlocks } } : {};
  return policy.kind === 'k-of-n' ? { kind: 'k-of-n', k: policy.k, ...recovery } : { kind: 'n-of-n', ...recovery };
}

/** The group's outputs under its policy (n-of-n when the group has none). */
export function groupOutputs(group: Pick<Group, 'publicKeys' | 'policy'>): GroupOutputs {
  return new GroupOutputs(group.publicKeys, group.policy ?? N_OF_N);
}

/**
 * The group as the contract shows it. Key path only: describeGroup's values, unchanged. With a script
 * tree: the output key and address commit to the tree's merkle root (BIP341).
 */
export function describePolicyGroup(
  name: string,
  publicKeysHex: readonly string[],
  network: BitcoinNetwork,
  policy: GroupPolicy = N_OF_N,
): Group {
  const outputs = new GroupOutputs(publicKeysHex, policy);
  const checked = outputs.policy;
  if (isKeyPathOnly(checked)) return { ...describeGroup(name, publicKeysHex, network), policy: policyView(checked) };
  const own = outputs.at([], network);
  return {
    id: policyGroupId(outputs.group.publicKeys, checked),
    name,
    publicKeys: outputs.group.publicKeys.map((k) => bytesToHex(k)),
    policy: policyView(checked),
    aggregateKey: bytesToHex(outputs.group.xOnlyKey),
    outputKey: bytesToHex(own.outputKey),
    address: own.address,
    network,
  };
}
