/** The contract's wallet.* requests: a group's coins from its network's chain server, broadcast, and building a spend. */
import type { HandlersOf } from '../../preload/contract-kit.ts';
import type { Group, PsbtExportVersion, Requests, SpendPathInput } from '../../preload/contract.ts';
import { WalletService, type WalletServiceDeps } from '../chain/wallet-service.ts';
import { parsePaymentUri } from '../wallet/bip21.ts';
import { base64AsVersion } from '../wallet/psbt-export.ts';
import type { SpendPath } from '../wallet/spend-path.ts';
import { requestPath } from './session-path.ts';

type WalletRequests = Pick<
  Requests,
  'wallet.status' | 'wallet.refresh' | 'wallet.broadcast' | 'wallet.buildSend' | 'wallet.bumpFee' | 'wallet.parseUri'
>;

/** A built spend with its PSBT in the version asked for (v0 unless 2). */
function inVersion<T extends { psbtBase64: string }>(built: T, version: PsbtExportVersion | undefined): T {
  return { ...built, psbtBase64: base64AsVersion(built.psbtBase64, version) };
}

/** The path a spend of `group` takes (requestPath's): undefined for a key-path-only group's key path. */
function spendPathOf(group: Group, input: SpendPathInput | undefined): SpendPath | undefined {
  return requestPath(group, input).group?.path;
}

export function walletHandlers(deps: WalletServiceDeps): { handlers: HandlersOf<WalletRequests>; stop(): void } {
  const wallets = new WalletService(deps);
  return {
    handlers: {
      'wallet.status': async ({ groupId }) => wallets.status(groupId),
      'wallet.refresh': async ({ groupId }) => wallets.refresh(groupId),
      'wallet.broadcast': async ({ groupId, txHex }) => wallets.broadcast(groupId, txHex),
      'wallet.buildSend': async ({ groupId, version, path, ...request }) =>
        inVersion(await wallets.buildSend(groupId, request, spendPathOf(deps.group(groupId), path)), version),
      'wallet.bumpFee': async ({ groupId, txid, feeRate, version, path }) =>
        inVersion(await wallets.bumpFee(groupId, txid, feeRate, spendPathOf(deps.group(groupId), path)), version),
      'wallet.parseUri': async ({ groupId, uri }) => parsePaymentUri(uri, deps.group(groupId).network),
    },
    stop: () => wallets.stop(),
  };
}
