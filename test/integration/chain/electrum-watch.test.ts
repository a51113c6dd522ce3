/**
 * The Electrum-protocol chain backend (main/chain/electrum.ts, electrum-chain.ts) against a local
 * Electrum server (test/support/electrum-server.ts) serving the same TestChain as the local Esplora
 * server: the group watcher must read the same WalletState through either, and the Electrum client
 * must fail with typed errors, never hang or grow, when the server fails or lies. Broadcasts are
 * checked byte for byte with bitcoinjs-lib's txid.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import * as bitcoin from 'bitcoinjs-lib';
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ElectrumChainClient, scriptHash } from '../../../main/chain/electrum-chain.ts';
import { ElectrumClient, parseElectrumUrl, type ElectrumOptions } from '../../../main/chain/electrum.ts';
import { EsploraClient } from '../../../main/chain/esplora.ts';
import { addressesOf } from '../../../main/chain/wallet-service.ts';
import { CheckedTxs, scanGroup } from '../../../main/chain/watcher.ts';
import { GroupKeysCache } from '../../../main/session/psbt-session.ts';
import { createSystemScheduler } from '../../../main/system-ports.ts';
import { feeRateFromEstimates } from '../../../main/wallet/send.ts';
import { ElectrumUrl } from '../../../preload/contract.ts';
import { startElectrumServer, type ElectrumServer } from '../../support/electrum-server.ts';
import { REGTEST, startEsploraServer, strangerScript, TestChain, type EsploraServer } from '../../support/esplora-server.ts';
import { cosigners } from '../../support/psbt-fixtures.ts';
import { codeOfAsync as codeOf } from '../../support/error-code.ts';

const keys = new GroupKeysCache().of(cosigners(2, 'chain-electrum').map((c) => c.publicKey));
const addressAt = addressesOf(keys, 'regtest');
const receive = (i: number) => addressAt(0, i).address;
const change = (i: number) => addressAt(1, i).address;
const scheduler = createSystemScheduler();
const NOW = Date.UTC(2026, 11, 2);
/** A self-signed certificate for 127.0.0.1 only (valid until 2126), and its key: test use only. */
const TLS = {
  cert: readFileSync(new URL('../../fixtures/electrum-tls/cert.pem', import.meta.url), 'utf8'),
  key: readFileSync(new URL('../../fixtures/electrum-tls/key.pem', import.meta.url), 'utf8'),
};

describe('the Electrum chain backend against a local Electrum server', () => {
  let chain: TestChain;
  let electrumServer: ElectrumServer;
  let esploraServer: EsploraServer;
  let electrum: ElectrumClient;
  let client: ElectrumChainClient;
  const opened: ElectrumClient[] = [];

  function connect(options: Partial<ElectrumOptions> = {}): ElectrumChainClient {
    const connection = new ElectrumClient({ url: electrumServer.url, scheduler, timeoutMs: 2000, backoffMs: 10, ...options });
    opened.push(connection);
    return new ElectrumChainClient(connection, 'regtest');
  }
  const esplora = () => new EsploraClient({ baseUrl: esploraServer.url, fetch, scheduler, timeoutMs: 2000, backoffMs: 10 });
  const scanWith = (c: ElectrumChainClient | EsploraClient, gapLimit = 20, checked?: CheckedTxs) =>
    scanGroup(c, { addressAt, gapLimit, now: () => NOW, ...(checked ? { checked } : {}) });

  beforeEach(async () => {
    chain = new TestChain();
    electrumServer = await startElectrumServer(chain);
    esploraServer = await startEsploraServer(chain);
    client = connect();
    electrum = opened[0]!;
  });
  afterEach(async () => {
    for (const c of opened.splice(0)) c.close();
    await electrumServer.close();
    await esploraServer.close();
  });

  describe('the same wallet as through Esplora', () => {
    it('payments, a spend with change, an unconfirmed parent and child, a long history: equal WalletStates', async () => {
      const fund0 = chain.pay([
        { address: receive(0), value: 100_000 },
        { script: strangerScript('x'), value: 49_800_000 },
      ]);
      chain.pay([{ address: receive(3), value: 250_000 }]);
      chain.mine();
      chain.pay(
        [
          { script: strangerScript('shop'), value: 60_000 },
          { address: change(0), value: 39_000 },
        ],
        [{ txid: fund0, vout: 0 }],
      );
      chain.mine();
      // Past one page of 25 confirmed transactions on one address.
      for (let i = 0; i < 27; i++) chain.pay([{ address: receive(4), value: 1000 + i }]);
      chain.mine();
      const parent = chain.pay([{ address: receive(5), value: 70_000 }]);
      chain.pay([{ address: receive(6), value: 69_000 }], [{ txid: parent, vout: 0 }]);

      const viaElectrum = await scanWith(client);
      const viaEsplora = await scanWith(esplora());
      expect(viaElectrum).toEqual(viaEsplora);
      expect(viaElectrum.balance).toEqual({ confirmed: 250_000 + 39_000 + 27 * 1000 + 351, unconfirmed: 69_000 });
      expect(viaElectrum.history).toHaveLength(3 + 27 + 2);
      expect(viaElectrum.history.find((h) => h.txid === fund0)?.blockTime).toBe(chain.blocks[chain.heightOf(fund0)!]!.time);
      // One connection for the whole scan.
      expect(electrumServer.connections.accepted).toBe(1);
    });

    it('a reorg shows at the next refresh as it does through Esplora: a transaction gone, another at a new height', async () => {
      const stays = chain.pay([{ address: receive(0), value: 10_000 }]);
      chain.mine();
      const goes = chain.pay([{ address: receive(1), value: 20_000 }]);
      chain.mine();
      const checked = new CheckedTxs();
      const before = await scanWith(client, 20, checked);
      expect(before).toEqual(await scanWith(esplora()));
      expect(before.balance.confirmed).toBe(30_000);
      // Block times are kept while the tip stays: a second scan asks no header again.
      const headers = () => electrumServer.requests.filter((m) => m === 'blockchain.block.header').length;
      const asked = headers();
      await scanWith(client, 20, checked);
      expect(headers()).toBe(asked);

      chain.reorg(2, [goes]);
      chain.mine([]);
      chain.mine([stays]);
      const after = await scanWith(client, 20, checked);
      // A new tip: the blocks' times are asked again (the block at a height may be another).
      expect(headers()).toBeGreaterThan(asked);
      expect(after).toEqual(await scanWith(esplora()));
      expect(after.history.map((h) => [h.txid, h.height, h.blockTime])).toEqual([[stays, 2, chain.blocks[2]!.time]]);
      expect(after.balance).toEqual({ confirmed: 10_000, unconfirmed: 0 });
    });

    it('fee estimates: the same sat/vB as Esplora, so the same fee rate chosen', async () => {
      const viaElectrum = await client.feeEstimates();
      expect(viaElectrum).toEqual(await esplora().feeEstimates());
      expect(feeRateFromEstimates(viaElectrum)).toBe(feeRateFromEstimates(chain.feeEstimates));
    });

    it('asks each transaction once: a checked txid is not fetched again at the next refresh', async () => {
      chain.pay([{ address: receive(0), value: 10_000 }]);
      await scanWith(client, 2);
      await scanWith(client, 2);
      expect(electrumServer.requests.filter((m) => m === 'blockchain.transaction.get')).toHaveLength(1);
    });

    it('the script hash is SHA-256 of the output script, byte-reversed', () => {
      const script = bitcoin.address.toOutputScript(receive(0), REGTEST);
      expect(scriptHash(script)).toBe(bytesToHex(sha256(script).reverse()));
      expect(scriptHash(script)).toBe(
        Buffer.from(bitcoin.crypto.sha256(Buffer.from(script)))
          .reverse()
          .toString('hex'),
      );
    });
  });

  describe('broadcast', () => {
    function signedLooking(): string {
      const other = new TestChain(1);
      return other.txs.get(other.pay([{ script: strangerScript('dest'), value: 1000 }]))!.toHex();
    }

    it('reaches the server byte-exact; twice, and once mined, is still success', async () => {
      const hex = signedLooking();
      const txid = bitcoin.Transaction.fromHex(hex).getId();
      expect(await client.broadcast(hex)).toBe(txid);
      expect(await client.broadcast(hex)).toBe(txid);
      chain.mine();
      expect(await client.broadcast(hex)).toBe(txid);
      expect(electrumServer.broadcasts).toEqual([hex, hex, hex]);
      expect(chain.heightOf(txid)).toBe(chain.tipHeight);
    });

    it('a refusal is BROADCAST_REJECTED with the reason', async () => {
      electrumServer.fault(/broadcast/, {
        kind: 'error',
        message: 'sendrawtransaction RPC error: {"code":-26,"message":"min relay fee not met"}',
      });
      const failure = client.broadcast(signedLooking());
      await expect(failure).rejects.toMatchObject({ code: 'BROADCAST_REJECTED' });
      await expect(failure).rejects.toThrow('min relay fee not met');
    });

    it('a server answering another txid is not believed', async () => {
      electrumServer.fault(/broadcast/, { kind: 'rewrite', rewrite: () => 'ab'.repeat(32) });
      expect(await codeOf(client.broadcast(signedLooking()))).toBe('CHAIN_INVALID_RESPONSE');
    });
  });

  describe('a server that fails or lies', () => {
    it('closes the connection mid-request once: the request is tried again on a new connection', async () => {
      electrumServer.fault(/headers\.subscribe/, { kind: 'close' }, 1);
      expect(await client.tipHeight()).toBe(chain.tipHeight);
      expect(electrumServer.connections.accepted).toBe(2);
    });

    it('closes it at every attempt: CHAIN_UNAVAILABLE after the bounded attempts', async () => {
      electrumServer.fault(/headers\.subscribe/, { kind: 'close' });
      expect(await codeOf(client.tipHeight())).toBe('CHAIN_UNAVAILABLE');
      expect(electrumServer.requests.filter((m) => m === 'blockchain.headers.subscribe')).toHaveLength(3);
    });

    it('a line that is not JSON: CHAIN_INVALID_RESPONSE, and the next request works on a new connection', async () => {
      electrumServer.fault(/headers\.subscribe/, { kind: 'malformed' }, 1);
      expect(await codeOf(client.tipHeight())).toBe('CHAIN_INVALID_RESPONSE');
      expect(await client.tipHeight()).toBe(chain.tipHeight);
      expect(electrumServer.connections.accepted).toBe(2);
    });

    it('a line longer than the limit, a true answer else: CHAIN_INVALID_RESPONSE, the line not kept', async () => {
      const small = connect({ maxLineChars: 64 * 1024 });
      electrumServer.fault(/headers\.subscribe/, { kind: 'oversized', chars: 1024 * 1024 }, 1);
      expect(await codeOf(small.tipHeight())).toBe('CHAIN_INVALID_RESPONSE');
      expect(await small.tipHeight()).toBe(chain.tipHeight);
    });

    it('a server that never answers times out: CHAIN_UNAVAILABLE after the bounded attempts', async () => {
      const impatient = connect({ timeoutMs: 200, attempts: 2 });
      electrumServer.fault(/headers\.subscribe/, { kind: 'hang' });
      expect(await codeOf(impatient.tipHeight())).toBe('CHAIN_UNAVAILABLE');
      expect(electrumServer.requests.filter((m) => m === 'blockchain.headers.subscribe')).toHaveLength(2);
    });

    it('a server that is down: CHAIN_UNAVAILABLE', async () => {
      const url = electrumServer.url;
      await electrumServer.close();
      const down = new ElectrumChainClient(new ElectrumClient({ url, scheduler, timeoutMs: 500, attempts: 2, backoffMs: 10 }), 'regtest');
      expect(await codeOf(down.tipHeight())).toBe('CHAIN_UNAVAILABLE');
      down.close();
      electrumServer = await startElectrumServer(chain);
    });

    it('an answer to an id nobody asked for, and a notification, are ignored', async () => {
      electrumServer.fault(/headers\.subscribe/, { kind: 'stray' }, 1);
      expect(await client.tipHeight()).toBe(chain.tipHeight);
      expect(electrumServer.connections.accepted).toBe(1);
    });

    it('another transaction than the txid asked for is caught against the txid', async () => {
      const txid = chain.pay([{ address: receive(0), value: 10_000 }]);
      const other = chain.txs.get(chain.blocks[0]!.txids[0]!)!.toHex();
      electrumServer.fault(/transaction\.get/, { kind: 'rewrite', rewrite: () => other });
      expect(await codeOf(client.txHex(txid))).toBe('CHAIN_INVALID_RESPONSE');
      expect(await codeOf(scanWith(client))).toBe('CHAIN_INVALID_RESPONSE');
    });

    it('bytes that are not a transaction: CHAIN_INVALID_RESPONSE', async () => {
      const txid = chain.pay([{ address: receive(0), value: 10_000 }]);
      electrumServer.fault(/transaction\.get/, { kind: 'rewrite', rewrite: () => 'deadbeef' });
      expect(await codeOf(client.txHex(txid))).toBe('CHAIN_INVALID_RESPONSE');
    });

    it('a wrong amount for a coin (listunspent) is caught against the transaction itself', async () => {
      chain.pay([{ address: receive(0), value: 10_000 }]);
      electrumServer.fault(/listunspent/, {
        kind: 'rewrite',
        rewrite: (coins) => (coins as { value: number }[]).map((c) => ({ ...c, value: c.value * 1000 })),
      });
      expect(await codeOf(scanWith(client))).toBe('CHAIN_INVALID_RESPONSE');
    });

    it('a history of the wrong shape: CHAIN_INVALID_RESPONSE', async () => {
      electrumServer.fault(/get_history/, { kind: 'rewrite', rewrite: () => [{ tx_hash: 'zz', height: 'tall' }] });
      expect(await codeOf(scanWith(client))).toBe('CHAIN_INVALID_RESPONSE');
    });

    it('requests in flight are bounded: more than the bound wait for a slot and all are answered', async () => {
      const narrow = connect({ maxInFlight: 2, timeoutMs: 300 });
      electrumServer.fault(/headers\.subscribe/, { kind: 'hang' }, 2);
      const hung = [narrow.tipHeight(), narrow.tipHeight()];
      const third = narrow.tipHeight();
      // The third waits for a slot: the server sees only the two hung requests (after the handshake),
      // which the client wrote in one go, as it would have written the third without the bound.
      const asked = () => electrumServer.requests.filter((m) => m === 'blockchain.headers.subscribe').length;
      await expect.poll(asked).toBe(2);
      expect(asked()).toBe(2);
      // The hung two time out, drop the connection and are tried again; all three get the tip.
      expect(await Promise.all([...hung, third])).toEqual([chain.tipHeight, chain.tipHeight, chain.tipHeight]);
    });

    it('close() ends the connection; a later request is CHAIN_UNAVAILABLE', async () => {
      expect(await client.tipHeight()).toBe(chain.tipHeight);
      expect(electrumServer.connections.open).toBe(1);
      electrum.close();
      await expect.poll(() => electrumServer.connections.open).toBe(0);
      expect(await codeOf(client.tipHeight())).toBe('CHAIN_UNAVAILABLE');
    });
  });

  describe('over TLS (ssl://)', () => {
    it('reads the same wallet from a server whose certificate is trusted', async () => {
      const tlsServer = await startElectrumServer(chain, TLS);
      try {
        chain.pay([{ address: receive(0), value: 12_345 }]);
        const secure = new ElectrumClient({ url: tlsServer.url, scheduler, timeoutMs: 2000, backoffMs: 10, tlsCa: TLS.cert });
        opened.push(secure);
        expect(tlsServer.url.startsWith('ssl://')).toBe(true);
        expect(await scanWith(new ElectrumChainClient(secure, 'regtest'), 3)).toEqual(await scanWith(esplora(), 3));
        expect(tlsServer.connections.accepted).toBe(1);
      } finally {
        await tlsServer.close();
      }
    });

    it('refuses a certificate nobody trusts, and one for another host: CHAIN_UNAVAILABLE, nothing asked', async () => {
      const tlsServer = await startElectrumServer(chain, TLS);
      try {
        const port = tlsServer.url.slice(tlsServer.url.lastIndexOf(':') + 1);
        const untrusted = new ElectrumClient({ url: tlsServer.url, scheduler, timeoutMs: 2000, attempts: 1 });
        const otherHost = new ElectrumClient({ url: `ssl://localhost:${port}`, scheduler, timeoutMs: 2000, attempts: 1, tlsCa: TLS.cert });
        opened.push(untrusted, otherHost);
        expect(await codeOf(new ElectrumChainClient(untrusted, 'regtest').tipHeight())).toBe('CHAIN_UNAVAILABLE');
        expect(await codeOf(new ElectrumChainClient(otherHost, 'regtest').tipHeight())).toBe('CHAIN_UNAVAILABLE');
        expect(tlsServer.requests).toEqual([]);
      } finally {
        await tlsServer.close();
      }
    });
  });

  describe('the server URL', () => {
    it('tcp:// and ssl:// with a host and port are taken; anything else is refused by the contract', () => {
      expect(parseElectrumUrl('ssl://electrum.example.org:50002')).toEqual({ tls: true, host: 'electrum.example.org', port: 50002 });
      expect(parseElectrumUrl('tcp://[::1]:50001')).toEqual({ tls: false, host: '::1', port: 50001 });
      for (const bad of [
        'http://x.org:50001',
        'tcp://x.org',
        'tcp://u:p@x.org:1',
        'tcp://x.org:70000',
        'tcp://x.org:1/path',
        'ssl://-x:1',
      ]) {
        expect(ElectrumUrl.safeParse(bad).success, bad).toBe(false);
        expect(() => parseElectrumUrl(bad)).toThrow();
      }
    });
  });
});
