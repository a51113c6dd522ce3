import type { Browser, Page } from 'playwright-core';
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { safetyCode } from '../../../preload/safety-code.ts';
import { leafSignatureProblem } from '../../support/bip322-leaf-check.ts';
import { ROOT, startDaemonPair, type DaemonPair } from '../../support/daemon-process.ts';
import { browserGate, launchChromium } from '../../support/prerequisites.ts';
import { openPending, SESSION_MS } from '../../support/ui-pages.ts';

// A 2-of-3 group through the real UI in Debian's Chromium, on two headless daemons (the third
// member, Cat, has no node running): Ann picks "You and Ben" on the New request screen, Ben's review
// says which path and that Cat is not needed, Ben approves, and the finished session shows who
// signed and who was not needed. The BIP322 signature shown is checked by code that is not ours.
// Keys, contacts and the group are set up through the control API, the request through the pages.
const SHOTS = path.join(ROOT, 'test-results', 'e2e');
const needs = browserGate();

describe.skipIf(needs.skip !== undefined)(needs.title('a 2-of-3 group through the UI'), () => {
  let browser: Browser;
  let pair: DaemonPair;
  let pa: Page;
  let pb: Page;
  const members: string[] = [];
  const pageErrors: string[] = [];

  async function open(url: string, who: string): Promise<Page> {
    const page = await (await browser.newContext({ viewport: { width: 1100, height: 900 } })).newPage();
    page.on('pageerror', (e) => pageErrors.push(`${who}: ${e.message}`));
    await page.goto(url);
    return page;
  }

  beforeAll(async () => {
    needs.assert();
    mkdirSync(SHOTS, { recursive: true });
    browser = await launchChromium();
    pair = await startDaemonPair('Ann', 'Ben');
    const [keyA, keyB] = await pair.importKeys(schnorr.utils.randomSecretKey(), schnorr.utils.randomSecretKey());
    const keyC = bytesToHex(secp256k1.getPublicKey(schnorr.utils.randomSecretKey(), true));
    members.push(keyA.publicKey, keyB.publicKey, keyC);
    const code = safetyCode(keyA.publicKey, keyB.publicKey);
    await pair.ca.bridge.call('contacts.save', { publicKey: keyB.publicKey, name: 'Ben', safetyCode: code });
    await pair.cb.bridge.call('contacts.save', { publicKey: keyA.publicKey, name: 'Ann', safetyCode: code });
    for (const c of [pair.ca, pair.cb]) {
      await c.bridge.call('contacts.save', { publicKey: keyC, name: 'Cat' });
      await c.bridge.call('groups.save', { name: 'Trio', publicKeys: members, policy: { kind: 'k-of-n', k: 2 } });
    }
    pa = await open(pair.a.url, 'Ann');
    pb = await open(pair.b.url, 'Ben');
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await pair?.stop();
  });

  it(
    'Ann asks Ben alone over their leaf; both pages say who signs and that Cat is not needed; the signature verifies',
    async () => {
      const [keyA, keyB, keyC] = members as [string, string, string];
      await pa.getByTestId('nav-new').click();
      await pa.getByTestId('request-group').selectOption({ label: 'Trio (3 signers)' });
      const choices = pa.getByTestId('path-choice');
      // The key path and the two leaves Ann is on; not the leaf of Ben and Cat.
      await expect.poll(() => choices.count()).toBe(3);
      expect(await choices.first().getAttribute('data-kind')).toBe('key');
      expect(await pa.getByTestId('path-picker').textContent()).toContain('All 3 (key path, cheapest)');
      const leafAB = [keyA, keyB].sort().join(',');
      await pa.locator(`[data-testid="path-choice"][data-signers="${leafAB}"]`).check();
      const asked = await pa.getByTestId('request-asked').textContent();
      expect(asked).toContain('Ben');
      expect(asked).not.toContain('Cat');
      const text = 'Ann and Ben renew the lease; Cat is away.';
      await pa.getByTestId('message-input').fill(text);
      await pa.getByTestId('description-input').fill(text);
      await pa.screenshot({ path: path.join(SHOTS, 'group-path-01-new-request.png'), fullPage: true });
      await pa.getByTestId('send-request').click();
      await pa.getByTestId('session-phase').waitFor();
      const sessionId = (await pa.getByTestId('session-id').textContent())!.trim();

      await openPending(pb, sessionId);
      await pb.getByTestId('spend-path').waitFor();
      expect(await pb.getByTestId('spend-path').getAttribute('data-kind')).toBe('leaf');
      expect(await pb.getByTestId('not-needed').textContent()).toContain('Cat');
      expect(await pb.getByTestId('signer-row').count()).toBe(2);
      await pb.screenshot({ path: path.join(SHOTS, 'group-path-02-review.png'), fullPage: true });
      await pb.getByTestId('approve').click();

      for (const page of [pa, pb])
        await page.locator('[data-testid="session-phase"][data-phase="COMPLETE"]').waitFor({ timeout: SESSION_MS });
      await pa.screenshot({ path: path.join(SHOTS, 'group-path-03-complete.png'), fullPage: true });
      expect(await pa.locator('[data-testid="not-needed-signer"]').getAttribute('data-public-key')).toBe(keyC);
      expect(await pa.getByTestId('signer-row').count()).toBe(2);
      expect(await pa.getByTestId('leaf-key').textContent()).toMatch(/^[0-9a-f]{64}$/);
      const leaf = Number(await pa.getByTestId('spend-path').getAttribute('data-leaf'));
      const signature = (await pa.getByTestId('final-signature').first().textContent())!.trim();
      const bip322 = (await pa.getByTestId('bip322-signature').first().textContent())!.trim();
      const messageHex = (await pa.getByTestId('message-hex').first().textContent())!.trim();
      expect((await pb.getByTestId('bip322-signature').first().textContent())!.trim()).toBe(bip322);
      expect(
        leafSignatureProblem(
          members.map((k) => hexToBytes(k)),
          leaf,
          hexToBytes(messageHex),
          bip322,
          signature,
        ),
      ).toBeUndefined();
      expect(pageErrors).toEqual([]);
    },
    4 * SESSION_MS,
  );
});
