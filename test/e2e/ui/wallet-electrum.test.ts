import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserGate, launchChromium } from '../../support/prerequisites.ts';
import { startElectrumServer, type ElectrumServer } from '../../support/electrum-server.ts';
import { startUiHarness, type UiHarness } from '../../support/ui-harness.ts';

// An Electrum server set in Settings, in Debian's Chromium over the UI harness: the wallet screen
// then reads the family group's coins through a local Electrum server (test/support/electrum-server.ts)
// serving the harness's chain, and the harness's Esplora server is asked nothing.
const needs = browserGate();

describe.skipIf(needs.skip !== undefined)(needs.title('an Electrum chain server set in Settings'), () => {
  let browser: Browser;
  let harness: UiHarness;
  let electrum: ElectrumServer;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    needs.assert();
    harness = await startUiHarness({ stepMs: 0 });
    electrum = await startElectrumServer(harness.chain.chain);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await harness?.close();
    await electrum?.close();
  });

  async function open(view: string): Promise<Page> {
    const page = await (await browser.newContext({ viewport: { width: 1100, height: 800 } })).newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${harness.url}&view=${view}`);
    return page;
  }

  it('refuses a URL that is not tcp:// or ssl:// host:port, then takes the server and reads the coins through it', async () => {
    const settings = await open('settings');
    const field = settings.getByTestId('settings-electrum-url');
    await field.fill('http://electrum.example.org:50001');
    await settings.getByTestId('save-settings').click();
    await settings.getByTestId('error-message').waitFor();
    expect(await settings.getByTestId('error-message').getAttribute('data-code')).toBe('INVALID_INPUT');

    await field.fill(electrum.url);
    await settings.getByTestId('save-settings').click();
    await settings.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();

    const page = await open('cosigners');
    await page.getByTestId('group-wallet').first().click();
    const privacy = await page.getByTestId('wallet-privacy').textContent();
    expect(privacy).toContain(electrum.url.replace('tcp://', ''));
    await page.getByTestId('wallet-refresh').click();
    await page.getByTestId('wallet-history').waitFor();
    // The harness chain, as wallet-coins.test.ts reads it through Esplora.
    expect(await page.getByTestId('wallet-confirmed').textContent()).toContain('888,000 sat');
    expect(await page.getByTestId('wallet-unconfirmed').textContent()).toContain('75,000 sat');
    expect(await page.getByTestId('wallet-history').locator('tbody tr').count()).toBe(4);
    expect(electrum.requests).toContain('blockchain.scripthash.get_history');
    expect(harness.chain.requests).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
