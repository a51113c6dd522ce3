import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { browserGate, launchChromium } from '../../support/prerequisites.ts';
import { connectControl, type ControlClient } from '../../../main/daemon/control-client.ts';
import { safetyCode } from '../../../preload/safety-code.ts';
import { startUiHarness, type UiHarness } from '../../support/ui-harness.ts';

// A co-signer found on the LAN becomes a contact only after the two people compared the safety code
// of their two keys, in Debian's Chromium over the UI harness (its contacts.save runs the app's own
// check, main/book/lan-contact.ts). In the fixture, "Dave" is seen on the LAN and is not a contact.
const needs = browserGate();

describe.skipIf(needs.skip !== undefined)(needs.title('saving a LAN co-signer after comparing the safety code'), () => {
  let browser: Browser;
  let harness: UiHarness;
  let control: ControlClient;
  let ownKey = '';
  let daveKey = '';
  const pageErrors: string[] = [];

  beforeAll(async () => {
    needs.assert();
    harness = await startUiHarness({ stepMs: 0 });
    control = await connectControl(harness.url);
    ownKey = (await control.bridge.call('keys.status', {})).key!.publicKey;
    daveKey = (await control.bridge.call('peers.lan', {})).find((c) => c.displayName === 'Dave')!.publicKey;
    browser = await launchChromium();
  });

  // Each test starts with Dave on the LAN and not saved, whatever an earlier one did or left.
  beforeEach(async () => {
    pageErrors.length = 0;
    await control.bridge.call('contacts.remove', { publicKey: daveKey });
  });

  afterAll(async () => {
    control?.close();
    await browser?.close();
    await harness?.close();
  });

  async function cosigners(): Promise<Page> {
    const page = await (await browser.newContext({ viewport: { width: 1100, height: 800 } })).newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${harness.url}&view=cosigners`);
    await page.locator(`[data-testid="lan-peer"][data-public-key="${daveKey}"]`).waitFor();
    return page;
  }

  const contact = (page: Page, key: string) => page.locator(`[data-testid="contact"][data-public-key="${key}"]`);

  it('refuses, through the API, to save a LAN co-signer without the code of the two keys', async () => {
    await expect(control.bridge.call('contacts.save', { publicKey: daveKey, name: 'Dave' })).rejects.toMatchObject({
      code: 'SAFETY_CODE_REQUIRED',
    });
    await expect(
      control.bridge.call('contacts.save', { publicKey: daveKey, name: 'Dave', safetyCode: '0000 0000 0000 0000 0000 0000' }),
    ).rejects.toMatchObject({ code: 'SAFETY_CODE_REQUIRED' });
    expect((await control.bridge.call('contacts.list', {})).map((c) => c.publicKey)).not.toContain(daveKey);
  });

  it('shows the code of both keys next to the peer and in the dialog, and saves only once the user confirms it', async () => {
    const page = await cosigners();
    const expected = safetyCode(daveKey, ownKey);
    const item = page.locator(`[data-testid="lan-peer"][data-public-key="${daveKey}"]`);
    expect((await item.getByTestId('lan-safety-code').textContent())?.trim()).toBe(expected);

    await item.getByTestId('save-lan-contact').click();
    const dialog = page.getByTestId('safety-code-dialog');
    await dialog.getByTestId('safety-code').waitFor();
    expect((await dialog.getByTestId('safety-code').textContent())?.trim()).toBe(expected);
    // Nothing is saved by opening the comparison, nor by backing out of it.
    await dialog.getByTestId('cancel-safety-code').click();
    expect(await contact(page, daveKey).count()).toBe(0);

    await item.getByTestId('save-lan-contact').click();
    await dialog.getByTestId('confirm-safety-code').click();
    await contact(page, daveKey).waitFor();
    expect((await contact(page, daveKey).getByTestId('contact-name').textContent())?.trim()).toBe('Dave');
    expect(pageErrors).toEqual([]);
  });

  it('asks for the same comparison when a LAN key is copied into the manual form', async () => {
    const page = await cosigners();
    await page.getByTestId('contact-name-input').fill('Dave from the office');
    await page.getByTestId('contact-key-input').fill(daveKey);
    await page.getByTestId('save-contact').click();
    const dialog = page.getByTestId('safety-code-dialog');
    expect((await dialog.getByTestId('safety-code').textContent())?.trim()).toBe(safetyCode(ownKey, daveKey));
    expect(await contact(page, daveKey).count()).toBe(0);
    await dialog.getByTestId('confirm-safety-code').click();
    await contact(page, daveKey).waitFor();
    expect((await contact(page, daveKey).getByTestId('contact-name').textContent())?.trim()).toBe('Dave from the office');
    expect(pageErrors).toEqual([]);
  });
});
