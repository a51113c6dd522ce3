import { secp256k1 } from '@noble/curves/secp256k1.js';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Group } from '../../../preload/contract.ts';
import { browserGate, launchChromium } from '../../support/prerequisites.ts';
import { connectControl, type ControlClient } from '../../../main/daemon/control-client.ts';
import { startUiHarness, type UiHarness } from '../../support/ui-harness.ts';

// A group made by one co-signer is imported by another from its file, in Debian's Chromium over the
// UI harness (whose groups.export/preview/import are the app's own handlers): the preview shows the
// first receive address, nothing is saved until the user says they compared it, and a 2-of-3 group
// says its policy and can be asked to sign. The group editor says what losing one key of an n-of-n
// group means, and how long a recovery key waits.
const needs = browserGate();

describe.skipIf(needs.skip !== undefined)(needs.title('importing a shared group after comparing its first address'), () => {
  let browser: Browser;
  let harness: UiHarness;
  let control: ControlClient;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    needs.assert();
    harness = await startUiHarness({ stepMs: 0 });
    control = await connectControl(harness.url);
    browser = await launchChromium();
  });

  afterAll(async () => {
    control?.close();
    await browser?.close();
    await harness?.close();
  });

  async function cosigners(): Promise<Page> {
    const page = await (await browser.newContext({ viewport: { width: 1100, height: 900 } })).newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${harness.url}&view=cosigners`);
    await page.getByTestId('import-group').waitFor();
    return page;
  }

  it('previews the shared file, saves only once the first address is compared, and shows the 2-of-3 group with its policy', async () => {
    const family = (await control.bridge.call('groups.list', {})).find((g) => g.name === 'Family savings')!;
    const shared = await control.bridge.call('groups.save', {
      name: 'Shared 2-of-3',
      publicKeys: family.publicKeys,
      policy: { kind: 'k-of-n', k: 2 },
    });
    const { text } = await control.bridge.call('groups.export', { id: shared.id });
    const { receiveAddresses } = await control.bridge.call('groups.wallet', { id: shared.id });
    await control.bridge.call('groups.remove', { id: shared.id });

    const page = await cosigners();
    await page.getByTestId('import-group').click();
    await page.getByTestId('group-import-text').fill(text);
    await page.getByTestId('group-import-check').click();
    const first = page.getByTestId('group-import-first-address');
    await first.waitFor();
    expect((await first.textContent())?.trim()).toBe(receiveAddresses[0]);
    await page.getByTestId('group-import-compare').waitFor();
    expect(await page.getByTestId('group-import-save').isDisabled()).toBe(true);
    expect((await control.bridge.call('groups.list', {})).some((g: Group) => g.id === shared.id)).toBe(false);

    await page.getByTestId('group-import-compared').check();
    await page.getByTestId('group-import-save').click();
    const card = page.locator(`[data-testid="group-card"][data-group-id="${shared.id}"]`);
    await card.waitFor();
    expect(await card.getByTestId('group-policy').textContent()).toContain('any 2 of 3 signers');
    // Spending from it works: no warning, and a member can ask for signatures from its card.
    await card.getByTestId('group-new-request').waitFor();
    expect((await control.bridge.call('groups.list', {})).find((g: Group) => g.id === shared.id)).toEqual(shared);
    expect(pageErrors).toEqual([]);
  });

  it("says what losing one key of an n-of-n group means, offers k of n or a recovery key, and warns of the recovery key's wait", async () => {
    const page = await cosigners();
    await page.getByTestId('new-group').click();
    for (const box of await page.getByTestId('group-member').all()) await box.check();
    const loss = page.getByTestId('policy-loss');
    await loss.waitFor();
    expect(await loss.textContent()).toMatch(
      /If any one of the \d signers loses their key and its backup words, the coins in this group can never be spent\./,
    );
    expect(await loss.textContent()).toMatch(/let any k of the \d spend.*or add a recovery key/);
    await page.getByTestId('policy-k-of-n').check();
    expect(await page.getByTestId('policy-loss').textContent()).toMatch(/stay spendable if up to \d signers? loses? their key/);
    expect(await page.getByTestId('policy-recovery-wait').count()).toBe(0);
    await page.getByTestId('policy-recovery').check();
    await page.getByTestId('recovery-keys').fill(Buffer.from(secp256k1.getPublicKey(new Uint8Array(32).fill(9), true)).toString('hex'));
    await page.getByTestId('recovery-days').fill('30');
    const wait = page.getByTestId('policy-recovery-wait');
    await wait.waitFor();
    expect(await wait.textContent()).toMatch(/Coins left unmoved for about 30 days can be spent by the recovery key alone/);
    expect(pageErrors).toEqual([]);
  });
});
