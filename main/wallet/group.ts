/**
 * A co-signer group: a named set of signer keys, and what follows from it alone — the BIP327
 * aggregate of the sorted keys (the taproot internal key), the BIP341 key-path-only output key and
 * its address. The group id depends on the keys only, so the same set always has the same id.
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { Address } from '@scure/btc-signer';
import type { BitcoinNetwork, Group } from '../../preload/contract.ts';
import { CosignerError } from '../errors.ts';
import { aggregateKeys, sortKeys, withTaprootTweak, type KeyAggContext } from '../musig/index.ts';
import { BTC_NETWORKS } from './networks.ts';

export const MAX_GROUP_SIGNERS = 16;

export function groupId(sortedKeys: readonly Uint8Array[]): string {
  return bytesToHex(schnorr.utils.taggedHash('Cosigner/group', ...sortedKeys));
}

/** The key aggregation of a group: sorted keys, no tweak (the taproot tweak is applied on top). */
export function groupKeyAgg(publicKeysHex: readonly string[]): KeyAggContext {
  if (publicKeysHex.length === 0 || publicKeysHex.length > MAX_GROUP_SIGNERS) {
    throw new CosignerError('INVALID_INPUT', `a group has 1 to ${MAX_GROUP_SIGNERS} signers`, { count: publicKeysHex.length });
  }
  // BIP340 signatures bind only x: a key and its negation (02x, 03x) are one signer, and no session
  // would accept both (announcement.ts), so the group is refused before any address is shown.
  if (new Set(publicKeysHex.map((k) => k.slice(2).toLowerCase())).size !== publicKeysHex.length) {
    throw new CosignerError('DUPLICATE_SIGNER', 'a signer is listed twice in the group (the same key, or a key and its negation)');
  }
  return aggregateKeys(sortKeys(publicKeysHex.map((k) => hexToBytes(k))));
}

/** The BIP341 pay-to-taproot address of an output key on a network. */
export function taprootAddress(outputKey: Uint8Array, network: BitcoinNetwork): string {
  return Address(BTC_NETWORKS[network]).encode({ type: 'tr', pubkey: outputKey });
}

export function describeGroup(name: string, publicKeysHex: readonly string[], network: BitcoinNetwork): Group {
  const ctx = groupKeyAgg(publicKeysHex);
  const outputKey = withTaprootTweak(ctx).xOnlyKey;
  return {
    id: groupId(ctx.publicKeys),
    name,
    publicKeys: ctx.publicKeys.map((k) => bytesToHex(k)),
    aggregateKey: bytesToHex(ctx.xOnlyKey),
    outputKey: bytesToHex(outputKey),
    address: taprootAddress(outputKey, network),
    network,
  };
}
