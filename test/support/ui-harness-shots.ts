/**
 * DEVELOPMENT TOOL: screenshots of every screen, light and dark, from the UI harness, into
 * test-results/ui/ (ignored by git), for a person to look at. Also prints any console error or
 * CSP violation the page reported. Needs a built renderer (npm run build:renderer) and Debian's
 * chromium at /usr/bin/chromium (or CHROMIUM=path).
 *
 *   node test/support/ui-harness-shots.ts [screen-name-filter]      (WIDTH=600 for a narrow window)
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { launchChromium } from './prerequisites.ts';
import { startUiHarness, type UiHarness } from './ui-harness.ts';

const ROOT = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
const OUT = path.join(ROOT, 'test-results/ui');
const FIXED_NOW = Date.UTC(2025, 2, 1, 10, 0, 0);
const filter = process.argv[2] ?? '';
const WIDTH = Number(process.env['WIDTH'] ?? 1100);

type Shot = { name: string; view: string; prepare?: (page: Page) => Promise<void> };

function shotsFor(h: UiHarness): Shot[] {
  return [
    { name: 'home', view: 'home' },
    { name: 'home-refused', view: 'home', prepare: async (p) => p.getByTestId('rejected-summary').locator('summary').click() },
    { name: 'cosigners', view: 'cosigners' },
    { name: 'cosigners-new-group', view: 'cosigners', prepare: async (p) => p.getByTestId('new-group').click() },
    {
      name: 'new-request',
      view: 'new',
      prepare: async (p) => {
        await p.getByTestId('request-group').selectOption({ index: 1 });
        await p.getByTestId('message-input').fill('Pay 0.01 BTC to the plumber');
        await p.getByTestId('description-input').fill('Plumbing repair, invoice 77');
      },
    },
    { name: 'review-contact', view: `session/${h.sessionIds.pendingFromContact}` },
    { name: 'review-unknown', view: `session/${h.sessionIds.pendingFromUnknown}` },
    {
      name: 'review-decline-dialog',
      view: `session/${h.sessionIds.pendingFromContact}`,
      prepare: async (p) => p.getByTestId('decline').click(),
    },
    { name: 'session-complete', view: `session/${h.sessionIds.complete}` },
    { name: 'session-blamed', view: `session/${h.sessionIds.blamed}` },
    { name: 'session-stuck', view: `session/${h.sessionIds.stuck}` },
    { name: 'session-declined', view: `session/${h.sessionIds.declined}` },
    { name: 'session-resumable', view: `session/${h.sessionIds.resumable}` },
    { name: 'session-in-progress', view: `session/${h.sessionIds.inProgress}` },
    { name: 'session-interrupted', view: `session/${h.sessionIds.interrupted}` },
    { name: 'session-cancelled', view: `session/${h.sessionIds.cancelled}` },
    {
      name: 'session-cancel-dialog',
      view: `session/${h.sessionIds.inProgress}`,
      prepare: async (p) => p.getByTestId('cancel-session').click(),
    },
    { name: 'review-batch', view: `session/${h.sessionIds.batch}` },
    { name: 'psbt-review', view: `session/${h.sessionIds.psbtPending}` },
    {
      name: 'psbt-review-technical',
      view: `session/${h.sessionIds.psbtPending}`,
      prepare: async (p) => p.locator('details.technical summary').click(),
    },
    { name: 'psbt-session-in-progress', view: `session/${h.sessionIds.psbtInProgress}` },
    { name: 'psbt-session-complete', view: `session/${h.sessionIds.psbtComplete}` },
    { name: 'psbt-new-signable', view: 'new', prepare: async (p) => reviewPsbt(p, h.psbts.signable) },
    { name: 'psbt-new-refused', view: 'new', prepare: async (p) => reviewPsbt(p, h.psbts.refused) },
    {
      name: 'psbt-new-finalized',
      view: 'new',
      prepare: async (p) => {
        await reviewPsbt(p, h.psbts.cosigned);
        await p.getByTestId('complete-psbt').click();
        await p.getByTestId('signed-transaction').waitFor();
      },
    },
    {
      name: 'psbt-new-finalize-refused',
      view: 'new',
      prepare: async (p) => {
        await reviewPsbt(p, h.psbts.signable);
        await p.getByTestId('complete-psbt').click();
        await p.getByTestId('error-message').waitFor();
      },
    },
    {
      name: 'psbt-new-sighash',
      view: 'new',
      prepare: async (p) => {
        await p.getByTestId('request-kind-psbt').check();
        await p.getByTestId('allow-nondefault-sighash').check();
      },
    },
    {
      name: 'wallet',
      view: 'cosigners',
      prepare: async (p) => {
        await p.getByTestId('group-wallet').first().click();
        await p.getByTestId('wallet-xpub').waitFor();
      },
    },
    {
      name: 'wallet-coins',
      view: 'cosigners',
      prepare: async (p) => {
        await p.getByTestId('group-wallet').first().click();
        await p.getByTestId('wallet-refresh').click();
        await p.getByTestId('wallet-history').waitFor();
      },
    },
    { name: 'history', view: 'history' },
    { name: 'settings', view: 'settings' },
    {
      name: 'settings-theme-flipped',
      view: 'settings',
      prepare: async (p) => {
        const system = await p.evaluate<boolean>("matchMedia('(prefers-color-scheme: dark)').matches");
        await p.getByTestId('theme-select').selectOption(system ? 'light' : 'dark');
        await p.getByTestId('theme-select').focus();
      },
    },
  ];
}

/** The New request screen in transaction mode, the family group chosen, `psbt` pasted and reviewed. */
async function reviewPsbt(page: Page, psbt: string): Promise<void> {
  await page.getByTestId('request-kind-psbt').check();
  await page.getByTestId('request-group').selectOption({ label: 'Family savings (3 signers)' });
  await page.getByTestId('psbt-input').fill(psbt);
  await page.getByTestId('description-input').fill('Rent for April');
  await page.getByTestId('review-psbt').click();
  await page.getByTestId('psbt-review').waitFor();
}

const firstRunShots: Shot[] = [
  { name: 'first-run', view: 'home' },
  { name: 'first-run-words', view: 'home', prepare: async (p) => p.getByTestId('create-key').click() },
  {
    name: 'first-run-check',
    view: 'home',
    prepare: async (p) => {
      await p.getByTestId('create-key').click();
      await p.getByTestId('mnemonic-word').first().waitFor();
      const words = await p.getByTestId('mnemonic-word').allTextContents();
      await p.getByTestId('backup-written').check();
      await p.getByTestId('backup-continue').click();
      const inputs = p.getByTestId('confirm-word');
      for (const [i, word] of words.entries()) await inputs.nth(i).fill(i === 4 ? 'wrong' : word);
      await p.getByTestId('confirm-backup').click();
    },
  },
  { name: 'first-run-import', view: 'home', prepare: async (p) => p.getByTestId('import-key').click() },
];

const keyProblemShots: Shot[] = [{ name: 'key-problem', view: 'home' }];

/** Settings as the desktop app shows them: an update found, then downloaded; start at login on. */
const desktopShots: Shot[] = [
  {
    name: 'settings-desktop-update-available',
    view: 'settings',
    prepare: async (p) => {
      await p.getByTestId('update-check-button').click();
      await p.getByTestId('update-download').waitFor();
      await p.getByTestId('start-at-login-toggle').check();
    },
  },
  {
    name: 'settings-desktop-update-ready',
    view: 'settings',
    prepare: async (p) => {
      // The harness's update flow lives as long as the harness: the shot before may have found the release.
      await p.locator('[data-testid="update-check"]:not([data-step="loading"])').waitFor();
      if ((await p.getByTestId('update-download').count()) === 0) await p.getByTestId('update-check-button').click();
      await p.getByTestId('update-download').click();
      await p.getByTestId('update-install').waitFor();
    },
  },
];

async function main(): Promise<void> {
  await mkdir(OUT, { recursive: true });
  const browser = await launchChromium();
  const problems: string[] = [];
  try {
    const runs = [
      { firstRun: false, keyProblem: false, shots: shotsFor },
      { firstRun: true, keyProblem: false, shots: () => firstRunShots },
      { firstRun: true, keyProblem: true, shots: () => keyProblemShots },
      { firstRun: false, keyProblem: false, desktop: true, shots: () => desktopShots },
    ];
    for (const run of runs) {
      // One harness per colour scheme: a shot may move the harness on (the desktop run's update flow).
      for (const scheme of ['light', 'dark'] as const) {
        const harness = await startUiHarness({
          firstRun: run.firstRun,
          keyProblem: run.keyProblem,
          desktop: run.desktop === true,
          stepMs: 0,
          now: FIXED_NOW,
        });
        try {
          const shots = run.shots(harness).filter((s) => s.name.includes(filter));
          for (const shot of shots) {
            const context = await browser.newContext({ viewport: { width: WIDTH, height: 800 }, colorScheme: scheme });
            const page = await context.newPage();
            page.on('console', (m) => {
              if (m.type() === 'error' || m.type() === 'warning') problems.push(`${shot.name}/${scheme}: ${m.type()}: ${m.text()}`);
            });
            page.on('pageerror', (e) => problems.push(`${shot.name}/${scheme}: page error: ${e.message}`));
            await page.clock.install({ time: FIXED_NOW });
            await page.goto(`${harness.url}&view=${shot.view}`);
            await page.locator('main').first().waitFor();
            await page.waitForLoadState('networkidle');
            await shot.prepare?.(page);
            await page.waitForTimeout(150);
            await page.screenshot({
              path: path.join(OUT, `${shot.name}-${scheme}${WIDTH === 1100 ? '' : `-${WIDTH}`}.png`),
              fullPage: true,
            });
            await context.close();
          }
        } finally {
          await harness.close();
        }
      }
    }
  } finally {
    await browser.close();
  }
  console.log(`screenshots in ${path.relative(ROOT, OUT)}`);
  if (problems.length > 0) console.log(`page problems:\n${problems.join('\n')}`);
}

await main();
