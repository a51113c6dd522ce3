/** The contract's wallet.* requests: a group's coins from its network's chain server, broadcast, and building a spend. */
import type { HandlersOf } from '../../preload/contract-kit.ts';
import type { Requests } from '../../preload/contract.ts';
import { WalletService, type WalletServiceDeps } from '../chain/wallet-service.ts';
import { parsePaymentUri } from '../wallet/bip21.ts';

type WalletRequests = Pick<
  Requests,
  'wallet.status' | 'wallet.refresh' | 'wallet.broadcast' | 'wallet.buildSend' | 'wallet.bumpFee' | 'wallet.parseUri'
>;

export function walletHandlers(deps: WalletServiceDeps): { handlers: HandlersOf<WalletRequests>; stop(): void } {
  const wallets = new WalletService(deps);
  return {
    handlers: {
      'wallet.status': async ({ groupId }) => wallets.status(groupId),
      'wallet.refresh': async ({ groupId }) => wallets.refresh(groupId),
      'wallet.broadcast': async ({ groupId, txHex }) => wallets.broadcast(groupId, txHex),
      'wallet.buildSend': async ({ groupId, ...request }) => wallets.buildSend(groupId, request),
      'wallet.bumpFee': async ({ groupId, txid, feeRate }) => wallets.bumpFee(groupId, txid, feeRate),
      'wallet.parseUri': async ({ groupId, uri }) => parsePaymentUri(uri, deps.group(groupId).network),
    },
    stop: () => wallets.stop(),
  };
}
