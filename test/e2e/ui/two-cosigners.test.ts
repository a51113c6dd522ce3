import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { browserGate, launchChromium } from '../../support/prerequisites.ts';
import { openPending, SESSION_MS } from '../../support/ui-pages.ts';
import { hexToBytes } from '@noble/hashes/utils.js';
import * as bitcoin from 'bitcoinjs-lib';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { verifiesAsBip322 } from '../../support/bip322-check.ts';
import { ROOT, removeDataDir, startDaemon, stopDaemon, type Daemon } from '../../support/daemon-process.ts';

// Two headless co-signers (separate data dirs and key files), each driven through the real UI in
// Debian's Chromium, as two people would: create keys, add each other, make a group, then a request
// that is approved, one that is declined and one that expires. Screenshots of each screen are saved
// under test-results/e2e/ as artifacts. The shared setup builds everything the tests read (keys,
// contacts, group, the request left to expire); each test then stands alone, and its waits add up
// to less than its timeout.
const EXPIRY_S = 60;
const SHOTS = path.join(ROOT, 'test-results', 'e2e');
const needs = browserGate();

describe.skipIf(needs.skip !== undefined)(needs.title('two co-signers through the UI'), () => {
  let browser: Browser;
  let a: Daemon;
  let b: Daemon;
  let pa: Page;
  let pb: Page;
  let keyA = '';
  let keyB = '';
  const pageErrors: string[] = [];
  let expiring = '';
  let expiresAt = 0;

  async function shot(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  }

  async function open(d: Daemon): Promise<Page> {
    const page = await (await browser.newContext({ viewport: { width: 1100, height: 800 } })).newPage();
    page.on('pageerror', (e) => pageErrors.push(`${d.name}: ${e.message}`));
    await page.goto(d.url);
    return page;
  }

  async function createKey(page: Page, who: string): Promise<string> {
    await page.getByTestId('create-key').click();
    await page.getByTestId('mnemonic-word').first().waitFor();
    const words = await page.getByTestId('mnemonic-word').allTextContents();
    expect(words).toHaveLength(24);
    await shot(page, `${who}-01-backup-words`);
    await page.getByTestId('backup-written').check();
    await page.getByTestId('backup-continue').click();
    const inputs = page.getByTestId('confirm-word');
    for (const [i, word] of words.entries()) await inputs.nth(i).fill(word.trim());
    await shot(page, `${who}-02-confirm-backup`);
    await page.getByTestId('confirm-backup').click();
    const key = (await page.getByTestId('local-public-key').textContent({ timeout: 30_000 }))!.trim();
    expect(key).toMatch(/^0[23][0-9a-f]{64}$/);
    return key;
  }

  async function befriend(page: Page, name: string, key: string): Promise<void> {
    await page.getByTestId('nav-cosigners').click();
    await page.getByTestId('contact-name-input').fill(name);
    await page.getByTestId('contact-key-input').fill(key);
    await page.getByTestId('save-contact').click();
    await page.locator(`[data-testid="contact"][data-public-key="${key}"]`).waitFor();
    await page.getByTestId('new-group').click();
    await page.getByTestId('group-name').fill('Household');
    await page.locator(`[data-testid="group-member"][data-public-key="${key}"]`).check();
    await page.getByTestId('save-group').click();
    await page.getByTestId('group-card').first().waitFor();
  }

  async function sendRequest(page: Page, text: string, expirySeconds?: number): Promise<string> {
    await page.getByTestId('nav-new').click();
    await page.getByTestId('request-group').selectOption({ label: 'Household (2 signers)' });
    await page.getByTestId('message-input').fill(text);
    await page.getByTestId('description-input').fill(text);
    if (expirySeconds !== undefined) await page.getByTestId('expiry-input').selectOption(String(expirySeconds));
    await page.getByTestId('send-request').click();
    await page.getByTestId('session-phase').waitFor();
    return (await page.getByTestId('session-id').textContent())!.trim();
  }

  function phase(page: Page, name: string) {
    return page.locator(`[data-testid="session-phase"][data-phase="${name}"]`);
  }

  beforeAll(async () => {
    needs.assert();
    mkdirSync(SHOTS, { recursive: true });
    browser = await launchChromium();
    a = await startDaemon('Alice', { displayName: 'Alice' });
    pa = await open(a);
    await shot(pa, 'a-00-first-run');
    keyA = await createKey(pa, 'a');
    // Alice's node runs once she has a key: Bob bootstraps from its address.
    b = await startDaemon('Bob', { bootstrap: [a], displayName: 'Bob' });
    pb = await open(b);
    keyB = await createKey(pb, 'b');
    await befriend(pa, 'Bob', keyB);
    await befriend(pb, 'Alice', keyA);
    // Made first, so that it expires while the other scenarios run (see the last test).
    expiresAt = Date.now() + EXPIRY_S * 1000;
    expiring = await sendRequest(pa, 'let this one expire', EXPIRY_S);
  }, 150_000);

  beforeEach(() => {
    pageErrors.length = 0;
  });

  afterAll(async () => {
    await browser?.close();
    for (const d of [a, b]) {
      if (!d) continue;
      await stopDaemon(d);
      await removeDataDir(d);
    }
  });

  it(
    'a request approved on B completes on both pages with one BIP322 signature valid for the group’s address',
    async () => {
      await pa.getByTestId('nav-home').click();
      await shot(pa, 'a-03-home');
      await pa.getByTestId('nav-cosigners').click();
      await shot(pa, 'a-04-cosigners');
      await pa.getByTestId('nav-new').click();
      await shot(pa, 'a-05-new-request');

      const text = 'pay the plumber, invoice 77';
      const sessionId = await sendRequest(pa, text);
      await openPending(pb, sessionId);
      await expect.poll(() => pb.getByTestId('message-display').first().textContent()).toContain(text);
      expect(await pb.getByTestId('request-creator').textContent()).toContain('Alice');
      await shot(pb, 'b-03-review');
      await pb.getByTestId('approve').click();

      await phase(pa, 'COMPLETE').waitFor({ timeout: SESSION_MS });
      await phase(pb, 'COMPLETE').waitFor({ timeout: SESSION_MS });
      await shot(pa, 'a-06-session-complete');
      await shot(pb, 'b-04-session-complete');
      const sigA = (await pa.getByTestId('final-signature').first().textContent())!.trim();
      const sigB = (await pb.getByTestId('final-signature').first().textContent())!.trim();
      const signingKey = (await pa.getByTestId('signing-key').textContent())!.trim();
      const messageHex = (await pa.getByTestId('message-hex').first().textContent())!.trim();
      const bip322A = (await pa.getByTestId('bip322-signature').first().textContent())!.trim();
      const bip322B = (await pb.getByTestId('bip322-signature').first().textContent())!.trim();
      const shownAddress = (await pa.getByTestId('result-address').textContent())!.trim();
      expect(sigA).toMatch(/^[0-9a-f]{128}$/);
      expect(sigB).toBe(sigA);
      expect(bip322B).toBe(bip322A);
      expect(messageHex).toBe(Buffer.from(text).toString('hex'));
      // The address shown is the signing key's; bip322-js verifies the signature for it (as mainnet:
      // the signature does not depend on the network), and it wraps the BIP340 signature shown.
      expect(Buffer.from(bitcoin.address.fromBech32(shownAddress).data).toString('hex')).toBe(signingKey);
      expect(
        verifiesAsBip322(
          { messages: [{ hex: messageHex }], signatures: [sigA], bip322: { signatures: [bip322A] } },
          hexToBytes(signingKey),
        ),
      ).toBe(true);
      expect(pageErrors).toEqual([]);
    },
    4 * SESSION_MS,
  );

  it(
    'a request declined on B ends DECLINED on both pages, naming who declined',
    async () => {
      const sessionId = await sendRequest(pa, 'buy a boat');
      await openPending(pb, sessionId);
      await pb.getByTestId('decline').click();
      await pb.getByTestId('decline-reason').fill('we agreed: no boats');
      await pb.getByTestId('decline-confirm').click();
      await phase(pb, 'DECLINED').waitFor({ timeout: SESSION_MS });
      await phase(pa, 'DECLINED').waitFor({ timeout: SESSION_MS });
      expect(await pa.getByTestId('session-failure').textContent()).toContain('no boats');
      await shot(pa, 'a-07-session-declined');
      expect(pageErrors).toEqual([]);
    },
    4 * SESSION_MS,
  );

  it(
    'a request nobody approves ends EXPIRED on both pages at its expiry',
    async () => {
      await pa.getByTestId('nav-history').click();
      await pa.locator(`[data-testid="history-row"]`).first().waitFor();
      await shot(pa, 'a-08-history');
      await pa.getByTestId('nav-settings').click();
      // A headless daemon neither updates itself nor starts at login: Settings says so, with why.
      await pa.locator('[data-testid="update-check"][data-step="off"]').waitFor();
      await pa.locator('[data-testid="start-at-login"][data-available="false"]').waitFor();
      await shot(pa, 'a-09-settings');
      // Both open the session by address: it may have expired already when this test runs alone.
      await pa.goto(`${a.url}&view=session/${expiring}`);
      await pb.goto(`${b.url}&view=session/${expiring}`);
      const untilExpired = Math.max(0, expiresAt - Date.now()) + SESSION_MS;
      await phase(pa, 'EXPIRED').waitFor({ timeout: untilExpired });
      await phase(pb, 'EXPIRED').waitFor({ timeout: SESSION_MS });
      await shot(pb, 'b-05-session-expired');
      expect(pageErrors).toEqual([]);
    },
    EXPIRY_S * 1000 + 3 * SESSION_MS,
  );
});
