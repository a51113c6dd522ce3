import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import * as bitcoin from 'bitcoinjs-lib';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ControlClient } from '../../../main/daemon/control-client.ts';
import type { GroupWallet } from '../../../preload/contract.ts';
import { ROOT, startDaemonPair, type DaemonPair } from '../../support/daemon-process.ts';
import { addressOf } from '../../support/descriptor-reader.ts';
import { REGTEST, startEsploraServer, type EsploraServer } from '../../support/esplora-server.ts';
import { verifyWithBitcoinJs } from '../../support/psbt-fixtures.ts';
import { browserGate, launchChromium } from '../../support/prerequisites.ts';
import { openPending, SESSION_MS } from '../../support/ui-pages.ts';

// The group's own wallet end to end: two `cosigner serve` processes (own data dirs and key files),
// each with the local Esplora test server as its regtest chain server, each driven through its UI in
// Debian's Chromium. The keys, contacts and group are set up through the control API (the screens
// for those have their own tests); everything about the coins is done on the screens: the balance,
// the Send form, the request, both approvals, the broadcast, the history, and a "Speed up" of the
// stuck payment co-signed and broadcast the same way. Every transaction the server receives is read
// back with bitcoinjs-lib and its signatures checked with tiny-secp256k1, not by our code.
// Screenshots of the wallet's steps are saved under test-results/e2e/.
const SHOTS = path.join(ROOT, 'test-results', 'e2e');
const needs = browserGate();

/** Someone else's P2WPKH address. */
const payee = bitcoin.payments.p2wpkh({
  pubkey: Buffer.from(secp256k1.getPublicKey(new Uint8Array(32).fill(7), true)),
  network: REGTEST,
}).address!;

describe.skipIf(needs.skip !== undefined)(needs.title("spending a group's coins through two co-signers' UIs"), () => {
  let browser: Browser;
  let server: EsploraServer;
  let pair: DaemonPair;
  let pa: Page;
  let pb: Page;
  let groupId = '';
  let wallet: GroupWallet;
  const pageErrors: string[] = [];

  async function shot(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  }

  async function open(url: string, who: string): Promise<Page> {
    const page = await (await browser.newContext({ viewport: { width: 1100, height: 900 } })).newPage();
    page.on('pageerror', (e) => pageErrors.push(`${who}: ${e.message}`));
    await page.goto(url);
    return page;
  }

  async function useTestServer(c: ControlClient): Promise<void> {
    const { chainBackends } = await c.bridge.call('settings.get', {});
    await c.bridge.call('settings.set', {
      chainBackends: { ...chainBackends, regtest: { esploraUrl: server.url, explorerUrl: 'https://explorer.invalid/regtest' } },
      walletRefreshSeconds: 0,
    });
  }

  /** A's wallet screen, once the refresh asked of it has asked the server and ended. */
  async function refreshedWallet(): Promise<void> {
    await pa.goto(`${pair.a.url}&view=wallet/${groupId}`);
    const asked = server.requests.length;
    await pa.getByTestId('wallet-refresh').click();
    await expect.poll(() => server.requests.length, { timeout: SESSION_MS }).toBeGreaterThan(asked);
    await expect.poll(async () => (await pa.getByTestId('wallet-refresh').textContent())?.trim(), { timeout: SESSION_MS }).toBe('Refresh');
    await pa.getByTestId('wallet-fetched').waitFor();
  }

  /** From the New request screen the Send form handed the PSBT to: reviewed, sent, approved on B, COMPLETE on A. */
  async function cosign(): Promise<{ sessionId: string; rawTxHex: string }> {
    await expect.poll(() => pa.getByTestId('psbt-input').inputValue(), { timeout: SESSION_MS }).toMatch(/^cHNidP8/);
    await pa.getByTestId('review-psbt').click();
    await pa.getByTestId('psbt-review').waitFor();
    await pa.getByTestId('send-psbt-request').click();
    await pa.getByTestId('session-phase').waitFor();
    const sessionId = (await pa.getByTestId('session-id').textContent())!.trim();

    await openPending(pb, sessionId);
    await pb.getByTestId('psbt-approve-summary').waitFor();
    await pb.getByTestId('approve').click();

    await pa.locator('[data-testid="session-phase"][data-phase="COMPLETE"]').waitFor({ timeout: SESSION_MS });
    await pb.locator('[data-testid="session-phase"][data-phase="COMPLETE"]').waitFor({ timeout: SESSION_MS });
    const rawTxHex = (await pa.getByTestId('raw-tx').textContent())!.trim();
    // Both nodes finalized the same transaction; it is what each daemon holds for the session.
    expect((await pb.getByTestId('raw-tx').textContent())!.trim()).toBe(rawTxHex);
    for (const c of [pair.ca, pair.cb])
      expect((await c.bridge.call('sessions.get', { sessionId })).psbt?.transaction?.rawTxHex).toBe(rawTxHex);
    return { sessionId, rawTxHex };
  }

  /** The outputs a transaction's inputs spend, read from the test server's chain. */
  function prevoutsOf(tx: bitcoin.Transaction): { script: Uint8Array; amount: bigint }[] {
    return tx.ins.map((i) => {
      const prev = server.chain.prevout(Buffer.from(i.hash).reverse().toString('hex'), i.index)!;
      return { script: prev.script, amount: prev.value };
    });
  }

  function historyRow(txid: string) {
    return pa.locator(`[data-testid="wallet-history-row"][data-txid="${txid}"]`);
  }

  beforeAll(async () => {
    needs.assert();
    mkdirSync(SHOTS, { recursive: true });
    server = await startEsploraServer();
    [browser, pair] = await Promise.all([launchChromium(), startDaemonPair('Alice-wallet', 'Bob-wallet')]);
    const [keyA, keyB] = await pair.importKeys(schnorr.utils.randomSecretKey(), schnorr.utils.randomSecretKey());
    const publicKeys = [keyA.publicKey, keyB.publicKey];
    await pair.ca.bridge.call('contacts.save', { publicKey: keyB.publicKey, name: 'Bob' });
    await pair.cb.bridge.call('contacts.save', { publicKey: keyA.publicKey, name: 'Alice' });
    groupId = (await pair.ca.bridge.call('groups.save', { name: 'Household', publicKeys })).id;
    await pair.cb.bridge.call('groups.save', { name: 'Household', publicKeys });
    await useTestServer(pair.ca);
    await useTestServer(pair.cb);
    wallet = await pair.ca.bridge.call('groups.wallet', { id: groupId });
    // Two confirmed coins on receive addresses 0 and 1, each from the server's faucet.
    server.chain.pay([{ address: addressOf(wallet.descriptors.receive, 0, 'regtest'), value: 150_000 }]);
    server.chain.pay([{ address: addressOf(wallet.descriptors.receive, 1, 'regtest'), value: 60_000 }]);
    server.chain.mine();
    [pa, pb] = await Promise.all([open(pair.a.url, 'A'), open(pair.b.url, 'B')]);
  }, 120_000);

  beforeEach(() => {
    pageErrors.length = 0;
  });

  afterAll(async () => {
    await browser?.close();
    await pair?.stop();
    await server?.close();
  });

  let sent = { txid: '', fee: 0n, change: '' };

  it(
    'sees the balance, sends to an address, both approve, the broadcast reaches the server byte-exact (again from B: success), the history shows it',
    async () => {
      await refreshedWallet();
      expect(await pa.getByTestId('wallet-confirmed').textContent()).toContain('210,000 sat');

      await pa.getByTestId('send-address').fill(payee);
      await pa.getByTestId('send-amount').fill('0.001');
      await pa.getByTestId('send-fee-typed').check();
      await pa.getByTestId('send-fee-rate').fill('3');
      await pa.getByTestId('send-build').click();
      await pa.getByTestId('send-summary').waitFor();
      await shot(pa, 'wallet-send-built');
      await pa.getByTestId('send-ask-cosigners').click();
      const { rawTxHex } = await cosign();

      await pa.getByTestId('broadcast-tx').click();
      await pa.getByTestId('broadcast-done').waitFor();
      await shot(pa, 'wallet-send-broadcast');
      expect(server.broadcasts).toEqual([rawTxHex]);

      // The transaction, read by bitcoinjs-lib: the payment, the change on the change descriptor's
      // first address (derived from the descriptor by test/support/descriptor-reader.ts), RBF on every
      // input, a fee of 3 sat/vB over its signed size, every signature valid.
      const tx = bitcoin.Transaction.fromHex(rawTxHex);
      const prevouts = prevoutsOf(tx);
      expect(verifyWithBitcoinJs(rawTxHex, prevouts)).toEqual(prevouts.map(() => true));
      expect(tx.ins.every((i) => i.sequence === 0xfffffffd)).toBe(true);
      const outs = tx.outs.map((o) => ({ address: bitcoin.address.fromOutputScript(Buffer.from(o.script), REGTEST), value: o.value }));
      const change = addressOf(wallet.descriptors.change, 0, 'regtest');
      expect(outs.map((o) => o.address).sort()).toEqual([payee, change].sort());
      expect(outs.find((o) => o.address === payee)!.value).toBe(100_000n);
      const fee = prevouts.reduce((s, p) => s + p.amount, 0n) - tx.outs.reduce((s, o) => s + o.value, 0n);
      expect(fee).toBeGreaterThanOrEqual(3n * BigInt(tx.virtualSize()));
      expect(fee).toBeLessThan(4n * BigInt(tx.virtualSize()));
      expect(await pa.getByTestId('broadcast-done').locator('a').getAttribute('href')).toBe(
        `https://explorer.invalid/regtest/tx/${tx.getId()}`,
      );
      sent = { txid: tx.getId(), fee, change };

      // Any co-signer can broadcast: B's, after A's, is success too (the server already has it).
      await pb.getByTestId('broadcast-tx').click();
      await pb.getByTestId('broadcast-done').waitFor();
      expect(server.broadcasts).toEqual([rawTxHex, rawTxHex]);

      // The server has it in its mempool; the wallet's history shows it, unconfirmed, as paid out.
      expect(server.chain.mempool).toContain(tx.getId());
      await refreshedWallet();
      await historyRow(tx.getId()).waitFor();
      expect(await historyRow(tx.getId()).textContent()).toContain('unconfirmed');
      expect(await historyRow(tx.getId()).textContent()).toContain(`−${(100_000n + fee).toLocaleString('en-US')} sat`);
      expect(pageErrors).toEqual([]);
    },
    4 * SESSION_MS,
  );

  it(
    'speeds the stuck payment up from its history line: the replacement is co-signed in both UIs and takes its place on the server',
    async () => {
      // The payment the test above made and broadcast.
      expect(sent.txid).not.toBe('');
      const original = bitcoin.Transaction.fromHex(server.chain.txs.get(sent.txid)!.toHex());
      // Only the unconfirmed payment out of the group can be sped up, not the coins it received.
      await expect.poll(() => pa.getByTestId('wallet-speed-up').count(), { timeout: SESSION_MS }).toBe(1);
      await historyRow(sent.txid).getByTestId('wallet-speed-up').click();
      // More than its change can pay: said in words, nothing built.
      await pa.getByTestId('speed-up-rate').fill('2000');
      await pa.getByTestId('speed-up-build').click();
      await expect
        .poll(() => pa.getByTestId('error-message').getAttribute('data-code'), { timeout: SESSION_MS })
        .toBe('INSUFFICIENT_FUNDS');
      expect(await pa.getByTestId('speed-up-summary').count()).toBe(0);
      await pa.getByTestId('speed-up-rate').fill('12');
      await pa.getByTestId('speed-up-build').click();
      await pa.getByTestId('speed-up-summary').waitFor();
      await shot(pa, 'wallet-speed-up');
      await pa.getByTestId('speed-up-ask-cosigners').click();
      const { rawTxHex } = await cosign();
      await pa.getByTestId('broadcast-tx').click();
      await pa.getByTestId('broadcast-done').waitFor();
      expect(server.broadcasts).toEqual([original.toHex(), original.toHex(), rawTxHex]);

      // Read by bitcoinjs-lib: the same coins, RBF, the same payment, the change smaller by the
      // higher fee (at least 12 sat/vB, and BIP125's old fee plus 1 sat/vB), every signature valid.
      const tx = bitcoin.Transaction.fromHex(rawTxHex);
      const outpoints = (t: bitcoin.Transaction) => t.ins.map((i) => `${Buffer.from(i.hash).toString('hex')}:${i.index}`).sort();
      expect(outpoints(tx)).toEqual(outpoints(original));
      expect(tx.ins.every((i) => i.sequence === 0xfffffffd)).toBe(true);
      const prevouts = prevoutsOf(tx);
      expect(verifyWithBitcoinJs(rawTxHex, prevouts)).toEqual(prevouts.map(() => true));
      const value = (t: bitcoin.Transaction, address: string) =>
        t.outs.find((o) => bitcoin.address.fromOutputScript(Buffer.from(o.script), REGTEST) === address)?.value;
      expect(tx.outs).toHaveLength(2);
      expect(value(tx, payee)).toBe(100_000n);
      const fee = prevouts.reduce((s, p) => s + p.amount, 0n) - tx.outs.reduce((s, o) => s + o.value, 0n);
      expect(value(tx, sent.change)).toBe(value(original, sent.change)! - (fee - sent.fee));
      expect(fee).toBeGreaterThanOrEqual(12n * BigInt(tx.virtualSize()));
      expect(fee).toBeGreaterThanOrEqual(sent.fee + BigInt(tx.virtualSize()));

      // The server took it in place of the stuck one; the history shows only the replacement.
      expect(server.chain.mempool).toContain(tx.getId());
      expect(server.chain.mempool).not.toContain(sent.txid);
      await refreshedWallet();
      await historyRow(tx.getId()).waitFor();
      expect(await historyRow(sent.txid).count()).toBe(0);
      expect(await historyRow(tx.getId()).textContent()).toContain(`−${(100_000n + fee).toLocaleString('en-US')} sat`);
      expect(pageErrors).toEqual([]);
    },
    4 * SESSION_MS,
  );
});
