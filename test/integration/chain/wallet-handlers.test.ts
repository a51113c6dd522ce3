/**
 * The wallet.* handlers (main/handlers/wallet.ts) as the app wires them, over a local Esplora server:
 * nothing is asked before the first refresh, the state survives a restart and a server that is gone,
 * a refresh timer (injected) keeps it fresh, and a broadcast links to the configured explorer.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import * as bitcoin from 'bitcoinjs-lib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../../../main/book/settings-store.ts';
import { walletHandlers } from '../../../main/handlers/wallet.ts';
import { GroupKeysCache, SpendKeysCache } from '../../../main/session/psbt-session.ts';
import type { Scheduler } from '../../../main/session/ports.ts';
import { createSystemScheduler } from '../../../main/system-ports.ts';
import { groupWallet } from '../../../main/group-wallet.ts';
import { describeGroup } from '../../../main/wallet/group.ts';
import { describePolicyGroup } from '../../../main/wallet/policy-group.ts';
import type { Settings, SpendPathInput, WalletStatus } from '../../../preload/contract.ts';
import { startElectrumServer } from '../../support/electrum-server.ts';
import { startEsploraServer, strangerScript, TestChain, type EsploraServer } from '../../support/esplora-server.ts';
import { FakeTime } from '../../support/fake-time.ts';
import { MemoryRecordStore } from '../../support/memory-record-store.ts';
import { addressOf } from '../../support/descriptor-reader.ts';
import { cosigners } from '../../support/psbt-fixtures.ts';

const group = describeGroup(
  'Family',
  cosigners(3, 'wallet-handlers').map((c) => bytesToHex(c.publicKey)),
  'regtest',
);
/** Same keys as a 2-of-3 with a recovery key: other outputs, other addresses. */
const threshold = describePolicyGroup('Family 2-of-3', group.publicKeys, 'regtest', {
  kind: 'k-of-n',
  k: 2,
  recovery: { keys: [group.publicKeys[0] as string], olderBlocks: 3 },
});
const groupKeys = new GroupKeysCache();
const receive0 = groupKeys.of(group.publicKeys).address([0, 0], 'regtest');

describe('wallet.* handlers', () => {
  let server: EsploraServer;
  let settings: Settings;
  let store: MemoryRecordStore;
  let emitted: WalletStatus[];
  let waiters: ((s: WalletStatus) => void)[];
  const stops: (() => void)[] = [];

  function handlers(scheduler: Scheduler = createSystemScheduler(), clock = { now: () => Date.UTC(2026, 11, 2, 12) }) {
    const built = walletHandlers({
      group: (id) => {
        const found = [group, threshold].find((g) => g.id === id);
        if (!found) throw new Error('unknown group');
        return found;
      },
      groupKeys,
      spendKeys: new SpendKeysCache(),
      settings: () => settings,
      store,
      fetch,
      clock,
      scheduler,
      emit: (status) => {
        emitted.push(status);
        for (const w of waiters.splice(0)) w(status);
      },
    });
    stops.push(built.stop);
    return built.handlers;
  }
  const nextEmitted = () => new Promise<WalletStatus>((resolve) => waiters.push(resolve));

  beforeEach(async () => {
    server = await startEsploraServer();
    store = new MemoryRecordStore();
    emitted = [];
    waiters = [];
    settings = {
      ...DEFAULT_SETTINGS,
      network: 'regtest',
      chainBackends: {
        ...DEFAULT_SETTINGS.chainBackends,
        regtest: { esploraUrl: server.url, electrumUrl: null, explorerUrl: 'https://explorer.example/regtest/' },
      },
      walletGapLimit: 3,
    };
  });
  afterEach(async () => {
    for (const stop of stops.splice(0)) stop();
    await server.close();
  });

  it('asks the server nothing before the first refresh', async () => {
    const status = await handlers()['wallet.status']({ groupId: group.id });
    expect(status.state).toBeNull();
    expect(status.lastError).toBeNull();
    expect(server.requests).toEqual([]);
  });

  it('regtest has no server by default: CHAIN_NOT_CONFIGURED, shown as the last error', async () => {
    expect(DEFAULT_SETTINGS.chainBackends.regtest.esploraUrl).toBeNull();
    settings = { ...settings, chainBackends: DEFAULT_SETTINGS.chainBackends };
    const h = handlers();
    const status = await h['wallet.refresh']({ groupId: group.id });
    expect(status.state).toBeNull();
    expect(status.lastError?.code).toBe('CHAIN_NOT_CONFIGURED');
    await expect(h['wallet.broadcast']({ groupId: group.id, txHex: '00' })).rejects.toMatchObject({ code: 'CHAIN_NOT_CONFIGURED' });
  });

  it('keeps the last state across a restart and while the server is gone, saying when it was fetched', async () => {
    server.chain.pay([{ address: receive0, value: 123_456 }]);
    server.chain.mine();
    const first = await handlers()['wallet.refresh']({ groupId: group.id });
    expect(first.state?.balance).toEqual({ confirmed: 123_456, unconfirmed: 0 });
    expect(first.state?.fetchedAt).toBe(Date.UTC(2026, 11, 2, 12));
    expect(emitted.at(-1)).toEqual(first);

    await server.close();
    const later = handlers(createSystemScheduler(), { now: () => Date.UTC(2026, 11, 3) });
    const offline = await later['wallet.status']({ groupId: group.id });
    expect(offline.state).toEqual(first.state);
    const failed = await later['wallet.refresh']({ groupId: group.id });
    expect(failed.lastError?.code).toBe('CHAIN_UNAVAILABLE');
    expect(failed.lastError?.at).toBe(Date.UTC(2026, 11, 3));
    expect(failed.state).toEqual(first.state);
    server = await startEsploraServer();
  });

  it('two refreshes at once share one scan', async () => {
    const h = handlers();
    const [a, b] = await Promise.all([h['wallet.refresh']({ groupId: group.id }), h['wallet.refresh']({ groupId: group.id })]);
    expect(a).toEqual(b);
    expect(server.requests.filter((r) => r === 'GET /blocks/tip/height')).toHaveLength(1);
  });

  it('once refreshed, a timer refreshes it again: a payment made meanwhile shows without asking', async () => {
    const time = new FakeTime();
    settings = { ...settings, walletRefreshSeconds: 60 };
    const h = handlers(time, time);
    await h['wallet.status']({ groupId: group.id });
    expect(time.pendingTimers).toBe(0);
    await h['wallet.refresh']({ groupId: group.id });
    expect(time.pendingTimers).toBe(1);

    server.chain.pay([{ address: receive0, value: 5000 }]);
    const refreshed = nextEmitted();
    await time.advance(60_000);
    expect((await refreshed).state?.balance).toEqual({ confirmed: 0, unconfirmed: 5000 });
    expect(time.pendingTimers).toBe(1);
  });

  it('broadcast asks nothing else of a server the user has not asked about the group yet', async () => {
    const other = new TestChain(1);
    const hex = other.txs.get(other.pay([{ address: receive0, value: 1000 }]))!.toHex();
    await handlers()['wallet.broadcast']({ groupId: group.id, txHex: hex });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(server.requests).toEqual(['POST /tx']);
    expect(emitted).toEqual([]);
  });

  it('broadcast sends the bytes and links the txid to the configured explorer; twice is success', async () => {
    const other = new TestChain(1);
    const hex = other.txs.get(other.pay([{ script: strangerScript('dest'), value: 1000 }]))!.toHex();
    const txid = bitcoin.Transaction.fromHex(hex).getId();
    const h = handlers();
    const expected = { txid, explorerUrl: `https://explorer.example/regtest/tx/${txid}` };
    expect(await h['wallet.broadcast']({ groupId: group.id, txHex: hex })).toEqual(expected);
    expect(await h['wallet.broadcast']({ groupId: group.id, txHex: hex })).toEqual(expected);
    expect(server.broadcasts).toEqual([hex, hex]);
  });

  it('after a broadcast the wallet refreshes by itself: its history shows the spend without a click', async () => {
    const other = new TestChain(1);
    const hex = other.txs.get(other.pay([{ address: receive0, value: 4321 }]))!.toHex();
    const h = handlers();
    await h['wallet.refresh']({ groupId: group.id });
    const refreshed = nextEmitted();
    await h['wallet.broadcast']({ groupId: group.id, txHex: hex });
    const status = await refreshed;
    expect(status.state?.balance).toEqual({ confirmed: 0, unconfirmed: 4321 });
    expect(status.state?.history.map((entry) => entry.txid)).toEqual([bitcoin.Transaction.fromHex(hex).getId()]);
  });

  it('with an Electrum server set, the wallet reads and broadcasts through it on one connection, closed by stop', async () => {
    const electrum = await startElectrumServer(server.chain);
    try {
      settings = {
        ...settings,
        chainBackends: { ...settings.chainBackends, regtest: { ...settings.chainBackends.regtest, electrumUrl: electrum.url } },
      };
      server.chain.pay([{ address: receive0, value: 8000 }]);
      const h = handlers();
      const status = await h['wallet.refresh']({ groupId: group.id });
      expect(status.lastError).toBeNull();
      expect(status.state?.balance).toEqual({ confirmed: 0, unconfirmed: 8000 });
      expect(status.backend.electrumUrl).toBe(electrum.url);

      const other = new TestChain(1);
      const hex = other.txs.get(other.pay([{ script: strangerScript('dest'), value: 1000 }]))!.toHex();
      expect((await h['wallet.broadcast']({ groupId: group.id, txHex: hex })).txid).toBe(bitcoin.Transaction.fromHex(hex).getId());
      expect(electrum.broadcasts).toEqual([hex]);
      // The Esplora server of the same network was not asked anything.
      expect(server.requests).toEqual([]);
      expect(electrum.connections.accepted).toBe(1);
      for (const stop of stops.splice(0)) stop();
      await expect.poll(() => electrum.connections.open).toBe(0);
    } finally {
      await electrum.close();
    }
  });

  it("a threshold group's wallet watches its own outputs (the tree's), as an independent descriptor reader derives them", async () => {
    const { receive, change } = groupWallet(threshold).descriptors;
    server.chain.pay([
      { address: addressOf(receive, 1, 'regtest'), value: 70_000 },
      { address: addressOf(change, 0, 'regtest'), value: 3000 },
      // The n-of-n address of the same keys is another wallet's.
      { address: receive0, value: 999 },
    ]);
    server.chain.mine();
    const h = handlers();
    const status = await h['wallet.refresh']({ groupId: threshold.id });
    expect(status.lastError).toBeNull();
    expect(status.state?.balance).toEqual({ confirmed: 73_000, unconfirmed: 0 });

    // A spend is built for the path chosen: its inputs carry what that path's signers need (bitcoinjs-lib reads them).
    const send = (path?: SpendPathInput) =>
      h['wallet.buildSend']({
        groupId: threshold.id,
        recipients: [{ address: receive0 }],
        feeRate: 2,
        sendAll: true,
        ...(path ? { path } : {}),
      });
    const inputsOf = async (path?: SpendPathInput) => bitcoin.Psbt.fromBase64((await send(path)).psbtBase64).data.inputs;
    const keyPath = await inputsOf();
    expect(keyPath).toHaveLength(2);
    for (const input of keyPath) {
      expect(input.tapMerkleRoot).toHaveLength(32);
      expect(input.tapLeafScript).toBeUndefined();
    }
    const pair = [threshold.publicKeys[0]!, threshold.publicKeys[2]!];
    for (const input of await inputsOf({ kind: 'leaf', signers: pair })) {
      expect(input.tapLeafScript).toHaveLength(1);
      const [leafKey] = bitcoin.script.decompile(input.tapLeafScript![0]!.script) as [Uint8Array];
      expect(input.tapBip32Derivation?.some((d) => bytesToHex(d.pubkey) === bytesToHex(leafKey))).toBe(true);
    }
    // The recovery leaf waits out older(3): coins one block deep are not used, three blocks deep are.
    await expect(send({ kind: 'leaf', leaf: 3 })).rejects.toMatchObject({ code: 'INSUFFICIENT_FUNDS' });
    server.chain.mine();
    server.chain.mine();
    await h['wallet.refresh']({ groupId: threshold.id });
    const recovery = bitcoin.Psbt.fromBase64((await send({ kind: 'leaf', leaf: 3 })).psbtBase64);
    expect(recovery.txInputs.map((input) => input.sequence)).toEqual([3, 3]);
    expect(recovery.version).toBe(2);
    await expect(send({ kind: 'leaf', leaf: 4 })).rejects.toMatchObject({ code: 'WRONG_PATH' });
    await expect(
      h['wallet.buildSend']({ groupId: group.id, recipients: [{ address: receive0 }], feeRate: 2, path: { kind: 'leaf', leaf: 0 } }),
    ).rejects.toMatchObject({ code: 'WRONG_PATH' });
  });
});
