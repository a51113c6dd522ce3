/**
 * A co-signer group as a watch-only wallet needs it: its BIP390 descriptors, its BIP328 synthetic
 * xpub and its first receive addresses, all derived from the group's keys alone.
 */
import type { BitcoinNetwork, Group, GroupWallet } from '../preload/contract.ts';
import type { GroupKeysCache } from './session/psbt-session.ts';
import { RECEIVE_BRANCH, syntheticXpub } from './wallet/bip328.ts';
import { groupDescriptors } from './wallet/descriptor.ts';

/** Receive addresses listed: enough to fund the group, few enough to derive at once. */
export const RECEIVE_ADDRESSES_SHOWN = 5;

export function groupWallet(group: Group, cache: GroupKeysCache, network: BitcoinNetwork = group.network): GroupWallet {
  const keys = cache.of(group.publicKeys);
  const { keyPath, receive, change } = groupDescriptors(keys.group, network);
  return {
    network,
    descriptors: { keyPath, receive, change },
    syntheticXpub: syntheticXpub(keys.group.aggregateKey, network),
    receiveAddresses: Array.from({ length: RECEIVE_ADDRESSES_SHOWN }, (_, i) => keys.address([RECEIVE_BRANCH, i], network)),
  };
}
