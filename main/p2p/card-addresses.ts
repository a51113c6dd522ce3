/**
 * Which of our addresses go in a signer card, best first: a card holds 8, and a relay address must
 * not be cut off by LAN ones (a co-signer behind another NAT can reach us only through the relay).
 */
import type { Multiaddr } from '@multiformats/multiaddr';
import { isPrivate } from '@libp2p/utils';
import { isRelayed } from './peer-paths.ts';
import { MAX_CARD_ADDR_BYTES, MAX_CARD_ADDRS } from './signer-card.ts';

const P2P_CODE = 421;

/** Public direct, public relay, private (LAN) direct, private relay. */
function cardAddressRank(address: Multiaddr): number {
  let priv: boolean;
  try {
    priv = isPrivate(address);
  } catch {
    // An address isPrivate cannot read is ranked with the LAN ones: never ahead of a public one.
    priv = true;
  }
  return (priv ? 2 : 0) + (isRelayed(address) ? 1 : 0);
}

/** `addresses` (libp2p's own) without the /p2p suffix, ranked, within the card's limits. */
export function cardAddresses(addresses: readonly Multiaddr[]): string[] {
  const addrs = addresses
    .map((a) => a.decapsulateCode(P2P_CODE))
    .sort((x, y) => cardAddressRank(x) - cardAddressRank(y))
    .filter((a) => a.bytes.length <= MAX_CARD_ADDR_BYTES)
    .map((a) => a.toString());
  return [...new Set(addrs)].slice(0, MAX_CARD_ADDRS);
}
