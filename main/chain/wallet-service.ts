/**
 * The groups' wallets: for each group, the last state read from its network's chain server (kept
 * on disk, so the wallet shows offline with the time it was fetched), the last failure, one refresh
 * at a time, and a refresh timer once the user has refreshed it in this run. No server is asked
 * anything before the user's first refresh: with a public server that is when it learns the
 * group's addresses.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { OutScript } from '@scure/btc-signer';
import { WalletState, type BitcoinNetwork, type Group, type Settings, type WalletStatus } from '../../preload/contract.ts';
import { JsonDocument } from '../book/json-document.ts';
import { CosignerError, isCosignerError } from '../errors.ts';
import type { GroupKeysCache, SpendKeysCache } from '../session/psbt-session.ts';
import type { Clock, Scheduler, TimerHandle } from '../session/ports.ts';
import type { RecordStore } from '../storage/record-store.ts';
import { ElectrumClient } from './electrum.ts';
import { ElectrumChainClient } from './electrum-chain.ts';
import { EsploraClient, type ChainClient, type FetchPort } from './esplora.ts';
import { CheckedTxs, scanGroup, type ScanOptions } from './watcher.ts';
import type { GroupKeys } from '../wallet/group-keys.ts';
import { keyPathOnlyGroup } from '../wallet/policy-group.ts';
import type { SpendKeys } from '../wallet/spend-keys.ts';
import { KEY_PATH, type SpendPath } from '../wallet/spend-path.ts';
import { pathSpender, type Spender } from '../wallet/spender.ts';
import { buildBump } from '../wallet/bump.ts';
import { decodeTxHex, type DecodedTx } from './verify.ts';
import { buildSend, feeRateFromEstimates, type BuiltSend, type SendRequest } from '../wallet/send.ts';

export interface WalletServiceDeps {
  group(id: string): Group;
  groupKeys: GroupKeysCache;
  /** Outputs and path keys of groups with a policy, shared with the PSBT reviews and sessions. */
  spendKeys: SpendKeysCache;
  settings(): Settings;
  store: RecordStore;
  fetch: FetchPort;
  clock: Clock;
  scheduler: Scheduler;
  emit(status: WalletStatus): void;
}

/** Groups refreshed on a timer at once: a bound on timers and on checked-transaction caches. */
export const MAX_WATCHED_GROUPS = 32;
/** Checked transactions remembered per group. */
const CHECKED_TXS_PER_GROUP = 5000;
const SavedState = WalletState.nullable();

interface Watched {
  state: WalletState | null;
  lastError: WalletStatus['lastError'];
  refreshing?: Promise<WalletStatus>;
  timer?: TimerHandle;
  readonly checked: CheckedTxs;
  readonly key: string;
  readonly doc: JsonDocument<typeof SavedState>;
}

/** The group's BIP328 address at `[branch, index]` with its output script. */
export function addressesOf(keys: GroupKeys, network: BitcoinNetwork): ScanOptions['addressAt'] {
  return (branch, index) => ({
    address: keys.address([branch, index], network),
    script: bytesToHex(OutScript.encode({ type: 'tr', pubkey: keys.derive([branch, index]).outputKey })),
  });
}

/** The scan's addresses of a group with a script tree (k-of-n, or a recovery path): its policy's outputs. */
export function treeAddressesOf(spend: SpendKeys): ScanOptions['addressAt'] {
  return (branch, index) => {
    const output = spend.at([branch, index]);
    return { address: output.address, script: bytesToHex(OutScript.encode({ type: 'tr', pubkey: output.outputKey })) };
  };
}

/** A transaction by txid from the server, its bytes checked against the txid. */
async function checkedTx(client: ChainClient, txid: string): Promise<DecodedTx> {
  const tx = decodeTxHex(await client.txHex(txid));
  if (tx.txid !== txid)
    throw new CosignerError('CHAIN_INVALID_RESPONSE', 'the chain server sent another transaction than the one asked for', { txid });
  return tx;
}

export class WalletService {
  readonly #deps: WalletServiceDeps;
  readonly #watched = new Map<string, Watched>();
  readonly #loading = new Map<string, Promise<Watched>>();
  /** One Electrum connection per network, reused; replaced when its URL changes, closed by stop(). */
  readonly #electrum = new Map<BitcoinNetwork, ElectrumChainClient>();
  /** After stop(), no connection is opened again (a scan still running then fails). */
  #stopped = false;

  constructor(deps: WalletServiceDeps) {
    this.#deps = deps;
  }

  async status(groupId: string): Promise<WalletStatus> {
    const group = this.#deps.group(groupId);
    return this.#view(group, await this.#load(group));
  }

  /** One refresh per group at a time: a second caller shares the one running. */
  async refresh(groupId: string): Promise<WalletStatus> {
    const group = this.#deps.group(groupId);
    const watched = await this.#load(group);
    watched.refreshing ??= this.#refresh(group, watched).finally(() => {
      watched.refreshing = undefined;
    });
    return watched.refreshing;
  }

  /** Sends a signed transaction through the group's network's chain server; the txid with its explorer
   *  link. A wallet refreshed before refreshes again at once, so that its history shows the spend. */
  async broadcast(groupId: string, txHex: string): Promise<{ txid: string; explorerUrl: string | null }> {
    const group = this.#deps.group(groupId);
    const backend = this.#backend(group.network);
    const txid = await this.#client(group.network).broadcast(txHex);
    // The history should show the spend without a click, if the user has asked the server about the
    // group before (nothing is asked before the first refresh). A scan already running may have
    // listed the addresses before the spend: a new one follows it. A failure lands in lastError, emitted.
    const watched = await this.#load(group);
    if (watched.state !== null) {
      void (watched.refreshing ?? Promise.resolve())
        .catch(() => undefined)
        .then(() => this.refresh(groupId))
        .catch(() => undefined);
    }
    return { txid, explorerUrl: backend.explorerUrl === null ? null : `${backend.explorerUrl.replace(/\/+$/, '')}/tx/${txid}` };
  }

  /** A spend of the group's coins as last refreshed (send.ts); the fee rate asked of the server when 'estimate'. */
  async buildSend(
    groupId: string,
    request: Omit<SendRequest, 'feeRate'> & { feeRate: number | 'estimate' },
    path?: SpendPath,
  ): Promise<BuiltSend & { feeRate: number }> {
    const group = this.#deps.group(groupId);
    const { state } = await this.#load(group);
    if (state === null) throw new CosignerError('INVALID_INPUT', "the group's coins are not known yet: refresh the wallet first");
    const feeRate =
      request.feeRate === 'estimate' ? feeRateFromEstimates(await this.#client(group.network).feeEstimates()) : request.feeRate;
    return { ...buildSend(state, this.#spender(group, path), group.network, { ...request, feeRate }), feeRate };
  }

  /**
   * A replacement of the group's unconfirmed spend `txid` at `feeRate` (bump.ts). The transaction and
   * those it spends are fetched as hex and checked against their txids: the amounts go into the
   * PSBT, and a wrong one could only make the signatures invalid (BIP341 commits to them).
   */
  async bumpFee(groupId: string, txid: string, feeRate: number, path?: SpendPath): Promise<BuiltSend & { feeRate: number }> {
    const group = this.#deps.group(groupId);
    const { state } = await this.#load(group);
    if (state === null) throw new CosignerError('INVALID_INPUT', "the group's coins are not known yet: refresh the wallet first");
    const client = this.#client(group.network);
    const original = await checkedTx(client, txid);
    const spent = [];
    for (const input of original.inputs) {
      const out = (await checkedTx(client, input.txid)).outputs[input.vout];
      if (!out) throw new CosignerError('CHAIN_INVALID_RESPONSE', 'a transaction spends an output that does not exist', { txid });
      spent.push(out);
    }
    return { ...buildBump(original, spent, state, this.#spender(group, path), group.network, feeRate), feeRate };
  }

  /**
   * How a spend of `group` spends its coins: a key-path-only group by its key path, as always; a
   * group with a tree along `path` (the key path when absent), which decides the inputs' PSBT fields
   * and, for the recovery leaf, their nSequence.
   */
  #spender(group: Group, path: SpendPath | undefined): GroupKeys | Spender {
    if (keyPathOnlyGroup(group)) {
      if (path?.kind === 'leaf') throw new CosignerError('WRONG_PATH', 'this group has no script path: it spends by its key path only');
      return this.#deps.groupKeys.of(group.publicKeys);
    }
    return pathSpender(this.#deps.spendKeys.of(group), path ?? KEY_PATH);
  }

  stop(): void {
    for (const watched of this.#watched.values()) if (watched.timer) this.#deps.scheduler.clear(watched.timer);
    this.#watched.clear();
    this.#stopped = true;
    for (const client of this.#electrum.values()) client.close();
    this.#electrum.clear();
  }

  async #refresh(group: Group, watched: Watched): Promise<WalletStatus> {
    try {
      const settings = this.#deps.settings();
      // A key-path-only group takes GroupKeys' cached derivations; a tree group its policy's outputs.
      watched.state = await scanGroup(this.#client(group.network), {
        addressAt: keyPathOnlyGroup(group)
          ? addressesOf(this.#deps.groupKeys.of(group.publicKeys), group.network)
          : treeAddressesOf(this.#deps.spendKeys.of(group)),
        gapLimit: settings.walletGapLimit,
        now: () => this.#deps.clock.now(),
        checked: watched.checked,
      });
      watched.lastError = null;
      await watched.doc.save(watched.state);
    } catch (e) {
      if (!isCosignerError(e)) throw e;
      watched.lastError = { code: e.code, message: e.message.slice(0, 1024), at: this.#deps.clock.now() };
    }
    this.#keepRefreshed(group.id, watched);
    const status = this.#view(group, watched);
    this.#deps.emit(status);
    return status;
  }

  #keepRefreshed(groupId: string, watched: Watched): void {
    const seconds = this.#deps.settings().walletRefreshSeconds;
    if (watched.timer || seconds === 0) return;
    watched.timer = this.#deps.scheduler.setInterval(() => {
      // A chain failure is in lastError; anything else (the group was removed) ends the watch.
      this.refresh(groupId).catch(() => {
        if (watched.timer) this.#deps.scheduler.clear(watched.timer);
        this.#watched.delete(watched.key);
      });
    }, seconds * 1000);
  }

  /** The group's wallet, read from disk once: callers at the same moment share one load. */
  #load(group: Group): Promise<Watched> {
    const key = `wallet-${group.network}-${group.id}`;
    const watched = this.#watched.get(key);
    if (watched) return Promise.resolve(watched);
    let loading = this.#loading.get(key);
    if (!loading) {
      loading = this.#open(key).finally(() => this.#loading.delete(key));
      this.#loading.set(key, loading);
    }
    return loading;
  }

  async #open(key: string): Promise<Watched> {
    const doc = new JsonDocument(this.#deps.store, key, SavedState);
    const watched: Watched = { state: await doc.load(null), lastError: null, checked: new CheckedTxs(CHECKED_TXS_PER_GROUP), key, doc };
    if (this.#watched.size >= MAX_WATCHED_GROUPS) {
      const [oldestKey, oldest] = this.#watched.entries().next().value as [string, Watched];
      if (oldest.timer) this.#deps.scheduler.clear(oldest.timer);
      this.#watched.delete(oldestKey);
    }
    this.#watched.set(key, watched);
    return watched;
  }

  #backend(network: BitcoinNetwork): Settings['chainBackends'][BitcoinNetwork] {
    return this.#deps.settings().chainBackends[network];
  }

  /** The network's Electrum server when one is set, else its Esplora server (README: Chain servers). */
  #client(network: BitcoinNetwork): ChainClient {
    const backend = this.#backend(network);
    if (backend.electrumUrl !== null) return this.#electrumClient(network, backend.electrumUrl);
    this.#electrum.get(network)?.close();
    this.#electrum.delete(network);
    const url = backend.esploraUrl;
    if (url === null) throw new CosignerError('CHAIN_NOT_CONFIGURED', `no chain server is set for ${network}`, { network });
    return new EsploraClient({ baseUrl: url, fetch: this.#deps.fetch, scheduler: this.#deps.scheduler });
  }

  #electrumClient(network: BitcoinNetwork, url: string): ChainClient {
    if (this.#stopped) throw new CosignerError('CHAIN_UNAVAILABLE', 'the wallet service is stopped', { network });
    const open = this.#electrum.get(network);
    if (open?.url === url) return open;
    open?.close();
    const client = new ElectrumChainClient(new ElectrumClient({ url, scheduler: this.#deps.scheduler }), network);
    this.#electrum.set(network, client);
    return client;
  }

  #view(group: Group, watched: Watched): WalletStatus {
    return {
      groupId: group.id,
      network: group.network,
      backend: this.#backend(group.network),
      state: watched.state,
      lastError: watched.lastError,
    };
  }
}
