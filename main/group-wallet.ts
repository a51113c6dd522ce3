/**
 * A co-signer group as a watch-only wallet needs it: its BIP390 descriptors, its BIP328 synthetic
 * xpub and its first receive addresses, all derived from the group's keys and policy alone.
 */
import type { BitcoinNetwork, Group, GroupWallet } from '../preload/contract.ts';
import { RECEIVE_BRANCH, syntheticXpub } from './wallet/bip328.ts';
import { groupOutputs } from './wallet/policy-group.ts';
import { policyDescriptors } from './wallet/threshold-descriptor.ts';

/** Receive addresses listed: enough to fund the group, few enough to derive at once. */
export const RECEIVE_ADDRESSES_SHOWN = 5;

/** An n-of-n group with no recovery path gets exactly the descriptors and addresses it always had
 *  (GroupOutputs has no script tree then: its outputs are GroupKeys'). */
export function groupWallet(group: Group, network: BitcoinNetwork = group.network): GroupWallet {
  const outputs = groupOutputs(group);
  const { keyPath, receive, change } = policyDescriptors(outputs, network);
  return {
    network,
    descriptors: { keyPath, receive, change },
    syntheticXpub: syntheticXpub(outputs.group.aggregateKey, network),
    receiveAddresses: Array.from({ length: RECEIVE_ADDRESSES_SHOWN }, (_, i) => outputs.address([RECEIVE_BRANCH, i], network)),
  };
}
