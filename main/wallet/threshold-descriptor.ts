/**
 * BIP390 descriptors of a group under its policy, each with its BIP380 checksum:
 *
 *   tr(musig(A,B,C),{pk(musig(A,B)),{pk(musig(A,C)),pk(musig(B,C))}})
 *   tr(musig(XA,XB,XC)/0/*,{pk(musig(XA,XB)/0/*),{pk(musig(XA,XC)/0/*),pk(musig(XB,XC)/0/*)}})
 *
 * and with a recovery path a last leaf `and_v(v:pk(K),older(N))`, K a key or a musig() of the
 * recovery keys. The tree is written in the shape GroupOutputs builds (balancedTree), participants
 * as in descriptor.ts: hex keys, or depth-0 xpubs with the BIP328 chain code in ranged forms.
 * An n-of-n group with no recovery path gets groupDescriptors' strings, byte for byte.
 */
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import type { BitcoinNetwork } from '../../preload/contract.ts';
import { CHANGE_BRANCH, RECEIVE_BRANCH, syntheticXpub } from './bip328.ts';
import { groupDescriptors, withChecksum, type GroupDescriptors } from './descriptor.ts';
import { balancedTree, type TreeShape } from './tap-tree.ts';
import type { GroupOutputs } from './threshold.ts';

/** How participant keys are written: hex for the group's own output, xpubs below a branch. */
type KeyForm = { readonly branch: undefined } | { readonly branch: number; readonly network: BitcoinNetwork };

function musig(keysHex: readonly string[], form: KeyForm): string {
  if (form.branch === undefined) return `musig(${keysHex.join(',')})`;
  const xpubs = keysHex.map((key) => syntheticXpub(hexToBytes(key), form.network));
  return `musig(${xpubs.join(',')})/${form.branch}/*`;
}

function treeText(tree: TreeShape<string>): string {
  return typeof tree === 'string' ? tree : `{${treeText(tree[0])},${treeText(tree[1])}}`;
}

function body(outputs: GroupOutputs, form: KeyForm): string {
  const internal = musig(
    outputs.group.publicKeys.map((key) => bytesToHex(key)),
    form,
  );
  const leaves = outputs.subsets.map((signers) => `pk(${musig(signers, form)})`);
  const recovery = outputs.policy.recovery;
  if (recovery !== undefined) {
    // One key has no chain code to derive with: it is written, and used, as it is.
    const key = recovery.keys.length === 1 ? (recovery.keys[0] as string) : musig(recovery.keys, form);
    leaves.push(`and_v(v:pk(${key}),older(${recovery.olderBlocks}))`);
  }
  return `tr(${internal},${treeText(balancedTree(leaves))})`;
}

/**
 * The group's descriptors under its policy. `keyPath` names the group's own output (no
 * derivation): for a group with a script tree it describes that tree as well.
 */
export function policyDescriptors(outputs: GroupOutputs, network: BitcoinNetwork): GroupDescriptors {
  if (!outputs.hasScriptTree) return groupDescriptors(outputs.group, network);
  return Object.freeze({
    keyPath: withChecksum(body(outputs, { branch: undefined })),
    receive: withChecksum(body(outputs, { branch: RECEIVE_BRANCH, network })),
    change: withChecksum(body(outputs, { branch: CHANGE_BRANCH, network })),
  });
}
