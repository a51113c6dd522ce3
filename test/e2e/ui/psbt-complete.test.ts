import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { browserGate, launchChromium } from '../../support/prerequisites.ts';
import { importPsbt } from '../../../main/wallet/psbt-import.ts';
import { spentOutputs, verifyWithBitcoinJs } from '../../support/psbt-fixtures.ts';
import { startUiHarness, type UiHarness } from '../../support/ui-harness.ts';

// "Finalize from its signatures" on the New request screen, in Debian's Chromium over the UI harness
// (fixture data; its psbt.complete runs the app's own checks and finalizer): a PSBT carrying every
// family signer's BIP373 partial signature becomes the transaction shown as a finished session's,
// and one without them shows the back end's error naming the input and the signer.
const needs = browserGate();

describe.skipIf(needs.skip !== undefined)(needs.title('finalizing a co-signed PSBT through the UI'), () => {
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

  async function reviewed(psbt: string): Promise<Page> {
    const page = await (await browser.newContext({ viewport: { width: 1100, height: 800 } })).newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${harness.url}&view=new`);
    await page.getByTestId('request-kind-psbt').check();
    await page.getByTestId('request-group').selectOption({ label: 'Family savings (3 signers)' });
    await page.getByTestId('psbt-input').fill(psbt);
    await expect.poll(() => page.getByTestId('complete-psbt').isDisabled()).toBe(true);
    await page.getByTestId('review-psbt').click();
    await page.getByTestId('psbt-review').waitFor();
    return page;
  }

  it('shows the txid, the raw transaction and the signed PSBT of a PSBT every co-signer signed', async () => {
    const page = await reviewed(harness.psbts.cosigned);
    await page.getByTestId('complete-psbt').click();
    await page.getByTestId('signed-transaction').waitFor();
    const { tx } = importPsbt(harness.psbts.cosigned);
    expect((await page.getByTestId('tx-id').textContent())?.trim()).toBe(tx.id);
    const rawTxHex = (await page.getByTestId('raw-tx').textContent())!.trim();
    expect(verifyWithBitcoinJs(rawTxHex, spentOutputs(tx))).toEqual([true, true]);
    expect(importPsbt((await page.getByTestId('signed-psbt').textContent())!.trim()).tx.isFinal).toBe(true);
    // Another PSBT pasted: the transaction of the previous one is no longer shown.
    await page.getByTestId('psbt-input').fill(harness.psbts.signable);
    await expect.poll(() => page.getByTestId('signed-transaction').count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });

  it('shows why a PSBT without its co-signers’ partial signatures cannot be finalized', async () => {
    const page = await reviewed(harness.psbts.signable);
    await page.getByTestId('complete-psbt').click();
    const error = page.getByTestId('error-message');
    await error.waitFor();
    expect(await error.getAttribute('data-code')).toBe('INVALID_INPUT');
    // The harness runs completePsbt without the app's signer naming: the back end's own message is shown.
    expect(await error.textContent()).toContain('input 0 has no public nonce from signer 0');
    expect(await page.getByTestId('signed-transaction').count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });
});
