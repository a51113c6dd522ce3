/**
 * The chain client and the group watcher against a local Esplora-compatible server serving a chain
 * this test builds (test/support/esplora-server.ts). What the wallet says is checked against that
 * chain by code that is not ours: the group's addresses from its synthetic xpub with @scure/bip32 and
 * bitcoinjs-lib's p2tr, the coins from the raw transactions decoded with bitcoinjs-lib.
 */
import { HDKey } from '@scure/bip32';
import * as bitcoin from 'bitcoinjs-lib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EsploraClient } from '../../../main/chain/esplora.ts';
import { addressesOf } from '../../../main/chain/wallet-service.ts';
import { CheckedTxs, scanGroup } from '../../../main/chain/watcher.ts';
import { isCosignerError } from '../../../main/errors.ts';
import { GroupKeysCache } from '../../../main/session/psbt-session.ts';
import { createSystemScheduler } from '../../../main/system-ports.ts';
import { syntheticXpub } from '../../../main/wallet/bip328.ts';
import type { WalletState } from '../../../preload/contract.ts';
import { REGTEST, startEsploraServer, strangerScript, TestChain, type EsploraServer } from '../../support/esplora-server.ts';
import { cosigners } from '../../support/psbt-fixtures.ts';
import { codeOfAsync as codeOf } from '../../support/error-code.ts';

const keys = new GroupKeysCache().of(cosigners(2, 'chain-watch').map((c) => c.publicKey));
const addressAt = addressesOf(keys, 'regtest');
const scheduler = createSystemScheduler();
const NOW = Date.UTC(2026, 11, 2);

/** The group's address at branch/index, derived independently: BIP32 from the synthetic xpub, bitcoinjs p2tr. */
const xpub = HDKey.fromExtendedKey(syntheticXpub(keys.group.aggregateKey, 'regtest'), { public: 0x043587cf, private: 0x04358394 });
function independentAddress(branch: number, index: number): string {
  const child = xpub.deriveChild(branch).deriveChild(index);
  return bitcoin.payments.p2tr({ internalPubkey: Buffer.from(child.publicKey!.subarray(1)), network: REGTEST }).address!;
}
const receive = (i: number) => independentAddress(0, i);
const change = (i: number) => independentAddress(1, i);

/** The coins of `addresses` in the chain the test built: every output paying them, minus those spent, from the raw txs. */
function expectedCoins(chain: TestChain, addresses: string[]): { txid: string; vout: number; value: number; confirmed: boolean }[] {
  const scripts = new Set(addresses.map((a) => Buffer.from(bitcoin.address.toOutputScript(a, REGTEST)).toString('hex')));
  const live = chain.ordered().map((txid) => bitcoin.Transaction.fromHex(chain.txs.get(txid)!.toHex()));
  const spent = new Set(live.flatMap((tx) => tx.ins.map((i) => `${Buffer.from(i.hash).reverse().toString('hex')}:${i.index}`)));
  return live
    .flatMap((tx) =>
      tx.outs.map((o, vout) => ({ txid: tx.getId(), vout, value: Number(o.value), script: Buffer.from(o.script).toString('hex') })),
    )
    .filter((o) => scripts.has(o.script) && !spent.has(`${o.txid}:${o.vout}`))
    .map(({ txid, vout, value }) => ({ txid, vout, value, confirmed: chain.heightOf(txid) !== null }));
}

const allAddresses = () => [...Array.from({ length: 60 }, (_, i) => receive(i)), ...Array.from({ length: 60 }, (_, i) => change(i))];
const byOutpoint = (a: { txid: string; vout: number }, b: { txid: string; vout: number }) => (a.txid + a.vout < b.txid + b.vout ? -1 : 1);

function coinsOf(state: WalletState) {
  return state.utxos.map(({ txid, vout, value, confirmed }) => ({ txid, vout, value, confirmed })).sort(byOutpoint);
}

describe('the group watcher against a local Esplora server', () => {
  let server: EsploraServer;
  let client: EsploraClient;
  const scan = (gapLimit = 20, checked?: CheckedTxs) =>
    scanGroup(client, { addressAt, gapLimit, now: () => NOW, ...(checked ? { checked } : {}) });

  beforeEach(async () => {
    server = await startEsploraServer();
    client = new EsploraClient({ baseUrl: server.url, fetch, scheduler, timeoutMs: 2000, backoffMs: 10 });
  });
  afterEach(async () => {
    await server.close();
  });

  it('our addresses are the ones derived independently from the synthetic xpub', () => {
    for (const i of [0, 1, 7]) {
      expect(addressAt(0, i).address).toBe(receive(i));
      expect(addressAt(1, i).address).toBe(change(i));
    }
  });

  it('an empty wallet: no coins, the first receive address next, gap-limit addresses scanned on each branch', async () => {
    const state = await scan(20);
    expect(state.balance).toEqual({ confirmed: 0, unconfirmed: 0 });
    expect(state.utxos).toEqual([]);
    expect(state.nextReceive).toEqual({ index: 0, address: receive(0) });
    expect(state.receive).toHaveLength(20);
    expect(state.change).toHaveLength(20);
    expect(state.fetchedAt).toBe(NOW);
    expect(state.tipHeight).toBe(server.chain.tipHeight);
  });

  it('balances, coins, history and used addresses match the chain: payments, a spend with change, an unconfirmed parent and child', async () => {
    const { chain } = server;
    const fund0 = chain.pay([
      { address: receive(0), value: 100_000 },
      { script: strangerScript('x'), value: 49_800_000 },
    ]);
    const fund3 = chain.pay([{ address: receive(3), value: 250_000 }]);
    chain.mine();
    // Spend receive/0 to a stranger with change to change/0; confirmed one block later.
    const spend = chain.pay(
      [
        { script: strangerScript('shop'), value: 60_000 },
        { address: change(0), value: 39_000 },
      ],
      [{ txid: fund0, vout: 0 }],
    );
    chain.mine();
    // An unconfirmed parent paying receive/5, and its unconfirmed child moving it to receive/6.
    const parent = chain.pay([{ address: receive(5), value: 70_000 }]);
    const child = chain.pay([{ address: receive(6), value: 69_000 }], [{ txid: parent, vout: 0 }]);

    const state = await scan();
    const expected = expectedCoins(chain, allAddresses());
    expect(coinsOf(state)).toEqual(expected.sort(byOutpoint));
    expect(state.balance.confirmed).toBe(expected.filter((c) => c.confirmed).reduce((s, c) => s + c.value, 0));
    expect(state.balance.unconfirmed).toBe(expected.filter((c) => !c.confirmed).reduce((s, c) => s + c.value, 0));
    expect(state.balance).toEqual({ confirmed: 250_000 + 39_000, unconfirmed: 69_000 });

    const entry = (txid: string) => state.history.find((h) => h.txid === txid);
    expect(entry(fund0)).toMatchObject({ received: 100_000, sent: 0, confirmed: true, height: chain.heightOf(fund0) });
    expect(entry(fund3)).toMatchObject({ received: 250_000, sent: 0 });
    expect(entry(spend)).toMatchObject({ received: 39_000, sent: 100_000, confirmed: true, height: chain.heightOf(spend) });
    expect(entry(parent)).toMatchObject({ received: 70_000, sent: 0, confirmed: false, height: null, blockTime: null });
    expect(entry(child)).toMatchObject({ received: 69_000, sent: 70_000, confirmed: false });
    expect(state.history).toHaveLength(5);
    // Unconfirmed first, then newest block first.
    expect(state.history.slice(0, 2).every((h) => !h.confirmed)).toBe(true);
    expect(state.history.at(-1)!.height).toBe(chain.heightOf(fund0));

    expect(state.receive.filter((a) => a.used).map((a) => a.index)).toEqual([0, 3, 5, 6]);
    expect(state.change.filter((a) => a.used).map((a) => a.index)).toEqual([0]);
    expect(state.nextReceive).toEqual({ index: 7, address: receive(7) });
    expect(state.receive).toHaveLength(7 + 20);
  });

  it('the next receive address is never a used one, even when a later address was paid first', async () => {
    server.chain.pay([{ address: receive(2), value: 10_000 }]);
    const state = await scan();
    expect(state.nextReceive.index).toBe(3);
    expect(state.receive.find((a) => a.address === state.nextReceive.address)!.used).toBe(false);
  });

  it('stops after gap-limit unused addresses: a payment beyond the gap is found only with a larger gap limit', async () => {
    server.chain.pay([{ address: receive(1), value: 10_000 }]);
    server.chain.pay([{ address: receive(1 + 5 + 1), value: 20_000 }]);
    expect((await scan(5)).balance.unconfirmed).toBe(10_000);
    expect((await scan(6)).balance.unconfirmed).toBe(30_000);
  });

  it('follows an address history past the first page (25 confirmed per page)', async () => {
    for (let i = 0; i < 30; i++) server.chain.pay([{ address: receive(0), value: 1000 + i }]);
    server.chain.mine();
    const state = await scan(3);
    expect(state.utxos).toHaveLength(30);
    expect(state.history).toHaveLength(30);
    expect(server.requests.some((r) => r.includes('/txs/chain/'))).toBe(true);
  });

  it('a reorg shows at the next refresh: a transaction gone, another at a new height', async () => {
    const { chain } = server;
    const stays = chain.pay([{ address: receive(0), value: 10_000 }]);
    chain.mine();
    const goes = chain.pay([{ address: receive(1), value: 20_000 }]);
    chain.mine();
    const checked = new CheckedTxs();
    const before = await scan(20, checked);
    expect(before.balance.confirmed).toBe(30_000);
    expect(before.history.find((h) => h.txid === stays)!.height).toBe(1);

    chain.reorg(2, [goes]);
    chain.mine([]);
    chain.mine([stays]);
    const after = await scan(20, checked);
    expect(after.history.map((h) => h.txid)).toEqual([stays]);
    expect(after.history[0]!.height).toBe(chain.heightOf(stays));
    expect(after.history[0]!.height).toBe(2);
    expect(coinsOf(after)).toEqual(expectedCoins(chain, allAddresses()).sort(byOutpoint));
    expect(after.balance).toEqual({ confirmed: 10_000, unconfirmed: 0 });
    expect(after.nextReceive.index).toBe(1);
  });

  it('fetches a transaction once: a checked txid is not asked again at the next refresh', async () => {
    const txid = server.chain.pay([{ address: receive(0), value: 10_000 }]);
    const checked = new CheckedTxs();
    await scan(2, checked);
    await scan(2, checked);
    expect(server.requests.filter((r) => r === `GET /tx/${txid}/hex`)).toHaveLength(1);
  });

  describe('a server that fails or lies', () => {
    it('HTTP 5xx is tried again with back-off, then CHAIN_UNAVAILABLE (bounded attempts)', async () => {
      server.fault(/^\/blocks\/tip\/height$/, { kind: 'status', status: 503 });
      expect(await codeOf(client.tipHeight())).toBe('CHAIN_UNAVAILABLE');
      expect(server.requests.filter((r) => r === 'GET /blocks/tip/height')).toHaveLength(3);
    });

    it('a 5xx once is absorbed by the retry', async () => {
      server.fault(/^\/blocks\/tip\/height$/, { kind: 'status', status: 502 }, 1);
      expect(await client.tipHeight()).toBe(server.chain.tipHeight);
    });

    it('a server that does not answer times out: CHAIN_UNAVAILABLE', async () => {
      const impatient = new EsploraClient({ baseUrl: server.url, fetch, scheduler, timeoutMs: 200, attempts: 2, backoffMs: 10 });
      server.fault(/^\/blocks\/tip\/height$/, { kind: 'hang' });
      expect(await codeOf(impatient.tipHeight())).toBe('CHAIN_UNAVAILABLE');
      expect(server.requests.filter((r) => r === 'GET /blocks/tip/height')).toHaveLength(2);
    });

    it('a server that is down: CHAIN_UNAVAILABLE', async () => {
      const url = server.url;
      await server.close();
      const down = new EsploraClient({ baseUrl: url, fetch, scheduler, timeoutMs: 500, attempts: 2, backoffMs: 10 });
      expect(await codeOf(down.tipHeight())).toBe('CHAIN_UNAVAILABLE');
      server = await startEsploraServer();
    });

    it('malformed JSON: CHAIN_INVALID_RESPONSE', async () => {
      server.chain.pay([{ address: receive(0), value: 10_000 }]);
      server.fault(/\/txs$/, { kind: 'malformed' });
      expect(await codeOf(scan())).toBe('CHAIN_INVALID_RESPONSE');
    });

    it('JSON of the wrong shape: CHAIN_INVALID_RESPONSE', async () => {
      server.fault(/\/utxo$/, { kind: 'rewrite', rewrite: () => '[{"txid":"zz","vout":-1}]' });
      expect(await codeOf(scan())).toBe('CHAIN_INVALID_RESPONSE');
    });

    it('a wrong amount for one of our outputs in the history is caught against the transaction itself', async () => {
      server.chain.pay([{ address: receive(0), value: 10_000 }]);
      server.fault(/\/address\/.*\/txs$/, { kind: 'rewrite', rewrite: (body) => body.replace('"value":10000', '"value":10000000') });
      expect(await codeOf(scan())).toBe('CHAIN_INVALID_RESPONSE');
    });

    it('a wrong amount for a coin (/utxo) is caught against the transaction itself', async () => {
      server.chain.pay([{ address: receive(0), value: 10_000 }]);
      server.fault(/\/utxo$/, { kind: 'rewrite', rewrite: (body) => body.replace('"value":10000', '"value":20000') });
      expect(await codeOf(scan())).toBe('CHAIN_INVALID_RESPONSE');
    });

    it("a coin said to be ours that pays someone else's script is refused", async () => {
      server.chain.pay([
        { address: receive(0), value: 10_000 },
        { script: strangerScript('other'), value: 10_000 },
      ]);
      server.fault(/\/utxo$/, { kind: 'rewrite', rewrite: (body) => body.replace('"vout":0', '"vout":1') });
      expect(await codeOf(scan(2))).toBe('CHAIN_INVALID_RESPONSE');
    });

    it('hex of another transaction than the txid asked for: CHAIN_INVALID_RESPONSE', async () => {
      server.chain.pay([{ address: receive(0), value: 10_000 }]);
      const other = server.chain.txs.get(server.chain.blocks[0]!.txids[0]!)!.toHex();
      server.fault(/^\/tx\/[0-9a-f]{64}\/hex$/, { kind: 'rewrite', rewrite: () => other });
      expect(await codeOf(scan())).toBe('CHAIN_INVALID_RESPONSE');
    });

    it('a 4xx is not retried', async () => {
      server.fault(/^\/blocks\/tip\/height$/, { kind: 'status', status: 404, body: 'not found' });
      expect(await codeOf(client.tipHeight())).toBe('CHAIN_INVALID_RESPONSE');
      expect(server.requests.filter((r) => r === 'GET /blocks/tip/height')).toHaveLength(1);
    });
  });

  describe('broadcast', () => {
    function signedLooking(): string {
      const chain = new TestChain(1);
      const txid = chain.pay([{ script: strangerScript('dest'), value: 1000 }]);
      // Its input must exist on the server's chain for nothing: the test server indexes, it does not validate.
      return chain.txs.get(txid)!.toHex();
    }

    it('reaches the server byte-exact and answers the txid computed from the bytes', async () => {
      const hex = signedLooking();
      const txid = bitcoin.Transaction.fromHex(hex).getId();
      expect(await client.broadcast(hex)).toBe(txid);
      expect(server.broadcasts).toEqual([hex]);
      expect(server.chain.mempool).toContain(txid);
    });

    it('twice is still success (already in the mempool), and so is one already mined', async () => {
      const hex = signedLooking();
      const txid = bitcoin.Transaction.fromHex(hex).getId();
      expect(await client.broadcast(hex)).toBe(txid);
      expect(await client.broadcast(hex)).toBe(txid);
      server.chain.mine();
      expect(await client.broadcast(hex)).toBe(txid);
      expect(server.broadcasts).toEqual([hex, hex, hex]);
    });

    it('a refusal is BROADCAST_REJECTED with the reason', async () => {
      server.fault(/^\/tx$/, {
        kind: 'status',
        status: 400,
        body: 'sendrawtransaction RPC error: {"code":-26,"message":"min relay fee not met"}',
      });
      const hex = signedLooking();
      try {
        await client.broadcast(hex);
        expect.unreachable();
      } catch (e) {
        expect(isCosignerError(e, 'BROADCAST_REJECTED')).toBe(true);
        expect((e as Error).message).toContain('min relay fee not met');
      }
    });

    it('a server answering another txid is not believed', async () => {
      server.fault(/^\/tx$/, { kind: 'status', status: 200, body: 'ab'.repeat(32) });
      expect(await codeOf(client.broadcast(signedLooking()))).toBe('CHAIN_INVALID_RESPONSE');
    });
  });
});
