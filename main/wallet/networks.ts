import { NETWORK, TEST_NETWORK, type BTC_NETWORK } from '@scure/btc-signer/utils.js';
import type { BitcoinNetwork } from '../../preload/contract.ts';

/** Address parameters per network. Signet shares testnet's; regtest has its own bech32 prefix. */
export const BTC_NETWORKS: Record<BitcoinNetwork, BTC_NETWORK> = {
  mainnet: NETWORK,
  testnet: TEST_NETWORK,
  signet: TEST_NETWORK,
  regtest: { ...TEST_NETWORK, bech32: 'bcrt' },
};
