import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HEADLESS_NO_LOGIN_ITEM } from '../../../main/handlers/start-at-login.ts';
import { HEADLESS_UPDATES_OFF } from '../../../main/handlers/updates.ts';
import { browserGate, launchChromium } from '../../support/prerequisites.ts';
import { startUiHarness, type UiHarness } from '../../support/ui-harness.ts';

// Settings' "Check for updates" and "Start at login" in Debian's Chromium, over the UI harness (the
// real control server and the app's own handlers and UpdateFlow): as the desktop app, with a
// simulated release feed, each step waits for a button; as the headless mode, both say why they
// are not there.
const needs = browserGate();

describe.skipIf(needs.skip !== undefined)(needs.title('the desktop settings in the browser'), () => {
  let browser: Browser;
  let headless: UiHarness;
  // Each desktop test has its own harness: the update flow keeps its state, as the app's does.
  let desktop: UiHarness;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    needs.assert();
    headless = await startUiHarness({ stepMs: 0 });
    browser = await launchChromium();
  });

  beforeEach(async () => {
    pageErrors.length = 0;
    desktop = await startUiHarness({ stepMs: 0, desktop: true });
    return () => desktop.close();
  });

  afterAll(async () => {
    await browser?.close();
    await headless?.close();
  });

  async function openSettings(harness: UiHarness): Promise<Page> {
    const page = await (await browser.newContext({ viewport: { width: 1100, height: 800 } })).newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${harness.url}&view=settings`);
    await page.getByTestId('update-check').waitFor();
    return page;
  }

  const step = (page: Page, name: string) => page.locator(`[data-testid="update-check"][data-step="${name}"]`).waitFor();

  it('desktop: checks, downloads and installs only when asked, one button at a time', async () => {
    const page = await openSettings(desktop);
    await step(page, 'idle');
    expect(await page.getByTestId('update-download').count()).toBe(0);
    await page.getByTestId('update-check-button').click();
    await step(page, 'available');
    expect(await page.getByTestId('update-state').textContent()).toContain('0.2.0');
    expect(desktop.desktop.downloads).toBe(0);
    await page.getByTestId('update-download').click();
    await step(page, 'ready');
    expect([desktop.desktop.downloads, desktop.desktop.installs]).toEqual([1, 0]);
    await page.getByTestId('update-install').click();
    await expect.poll(() => desktop.desktop.installs).toBe(1);
    expect(pageErrors).toEqual([]);
  });

  it('desktop: says when this is the newest release', async () => {
    desktop.desktop.latestRelease = null;
    const page = await openSettings(desktop);
    await page.getByTestId('update-check-button').click();
    await step(page, 'current');
    expect(await page.getByTestId('update-state').textContent()).toContain('newest release');
    // Asking again is allowed: the button stays.
    expect(await page.getByTestId('update-check-button').isEnabled()).toBe(true);
    expect(pageErrors).toEqual([]);
  });

  it('desktop: start at login is a check box the app keeps', async () => {
    const page = await openSettings(desktop);
    const toggle = page.getByTestId('start-at-login-toggle');
    expect(await toggle.isChecked()).toBe(false);
    await toggle.check();
    await expect.poll(() => desktop.desktop.openAtLogin).toBe(true);
    // A change made elsewhere (the tray) while Settings is closed is shown when it opens again,
    // within the same page: Settings asks the app, it does not keep what it showed last.
    desktop.desktop.openAtLogin = false;
    await page.getByTestId('nav-home').click();
    await page.getByTestId('start-at-login-toggle').waitFor({ state: 'detached' });
    await page.getByTestId('nav-settings').click();
    await page.locator('[data-testid="start-at-login"][data-available="true"]').waitFor();
    await expect.poll(() => page.getByTestId('start-at-login-toggle').isChecked()).toBe(false);
    expect(pageErrors).toEqual([]);
  });

  it('headless: both are shown as unavailable, with why', async () => {
    const page = await openSettings(headless);
    await step(page, 'off');
    expect(await page.getByTestId('update-state').textContent()).toContain(HEADLESS_UPDATES_OFF);
    expect(await page.getByTestId('update-check-button').count()).toBe(0);
    await page.locator('[data-testid="start-at-login"][data-available="false"]').waitFor();
    expect(await page.getByTestId('start-at-login-unavailable').textContent()).toContain(HEADLESS_NO_LOGIN_ITEM);
    expect(await page.getByTestId('start-at-login-toggle').count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });
});
