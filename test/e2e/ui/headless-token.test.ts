import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { browserGate, launchChromium } from '../../support/prerequisites.ts';
import { startUiHarness, type UiHarness } from '../../support/ui-harness.ts';

// The headless mode's token in Debian's Chromium, over the UI harness (the real control server):
// the page takes it out of the address once read and keeps working across a reload; a wrong or
// missing token is said plainly instead of "Reconnecting…" for ever.
const needs = browserGate();
const REFUSED_WORDS = 'The token in the address is wrong or missing: open the URL that Cosigner printed';

describe.skipIf(needs.skip !== undefined)(needs.title('the headless token in the browser'), () => {
  let browser: Browser;
  let harness: UiHarness;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    needs.assert();
    harness = await startUiHarness({ stepMs: 0 });
    browser = await launchChromium();
  });

  // A page error is charged to the test whose page made it.
  beforeEach(() => {
    pageErrors.length = 0;
  });

  afterAll(async () => {
    await browser?.close();
    await harness?.close();
  });

  async function open(url: string): Promise<Page> {
    const page = await (await browser.newContext({ viewport: { width: 1100, height: 800 } })).newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(url);
    return page;
  }

  const connection = (page: Page) => page.getByTestId('connection-state');

  it('removes the token from the address once read, and still connects after a reload', async () => {
    const page = await open(`${harness.url}&view=cosigners`);
    await page.getByTestId('nav-cosigners').waitFor();
    expect(page.url()).not.toContain('token');
    expect(page.url()).not.toContain(harness.server.token);
    expect(new URL(page.url()).hash).toBe('#view=cosigners');
    await page.reload();
    await page.getByTestId('nav-cosigners').waitFor();
    expect(await page.getByTestId('nav-cosigners').getAttribute('aria-current')).toBe('page');
    expect(await connection(page).count()).toBe(0);
    // The entry was replaced, not added to: one step back is the page before, not the tokened address.
    await page.goBack();
    expect(page.url()).toBe('about:blank');
    expect(pageErrors).toEqual([]);
  });

  it('says plainly that a wrong token is wrong, and stops reconnecting', async () => {
    const page = await open(`http://127.0.0.1:${harness.server.port}/#token=not-the-token`);
    await page.locator('[data-testid="connection-state"][data-state="unauthorized"]').waitFor();
    expect(await connection(page).textContent()).toContain(REFUSED_WORDS);
    expect(page.url()).not.toContain('not-the-token');
    // It stays so: no loop back to "Connecting" or "Reconnecting".
    await page.waitForTimeout(1500);
    expect(await connection(page).getAttribute('data-state')).toBe('unauthorized');
    expect(pageErrors).toEqual([]);
  });

  it('says the same when the address has no token at all', async () => {
    const page = await open(`http://127.0.0.1:${harness.server.port}/`);
    await page.locator('[data-testid="connection-state"][data-state="unauthorized"]').waitFor();
    expect(await connection(page).textContent()).toContain(REFUSED_WORDS);
    expect(pageErrors).toEqual([]);
  });
});
