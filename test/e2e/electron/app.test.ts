import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ElectronApplication } from 'playwright-core';
import { HARDENED_WEB_PREFERENCES } from '../../../main/electron/hardening.ts';
import { ROOT } from '../../support/daemon-process.ts';
import { gate } from '../../support/prerequisites.ts';

// The real desktop app, launched by Playwright's Electron driver. It needs the Electron binary,
// which `npm ci` downloads unless ELECTRON_SKIP_BINARY_DOWNLOAD is set (as on machines that cannot
// reach its download host); there the test says so and skips. The release workflow runs it on
// Windows, macOS and Linux.
function electronBinary(): string | undefined {
  try {
    const binary = createRequire(import.meta.url)('electron') as unknown as string;
    return existsSync(binary) ? binary : undefined;
  } catch {
    return undefined;
  }
}
const binary = electronBinary();
const built = existsSync(path.join(ROOT, 'dist', 'electron', 'main.mjs')) && existsSync(path.join(ROOT, 'dist', 'electron', 'preload.cjs'));
const needs = gate({
  electron: !binary
    ? 'no Electron binary (installed with ELECTRON_SKIP_BINARY_DOWNLOAD=1)'
    : !built
      ? 'not built (npm run build)'
      : undefined,
});

describe.skipIf(needs.skip !== undefined)(needs.title('the Electron app'), () => {
  beforeAll(() => needs.assert());
  let app: ElectronApplication | undefined;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'cosigner-electron-'));

  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('opens one hardened window on the app scheme, with the preload bridge and no Node', async () => {
    const { _electron } = await import('playwright-core');
    app = await _electron.launch({
      executablePath: binary!,
      args: [ROOT, '--no-sandbox'],
      env: { ...process.env, COSIGNER_DATA_DIR: dataDir },
    });
    const page = await app.firstWindow();
    await page.waitForLoadState('domcontentloaded');
    expect(page.url()).toMatch(/^cosigner:\/\/app\//);
    // Electron no longer reports a window's web preferences, so their effects are checked: no Node
    // in the page or its workers (nodeIntegration*, sandbox), the bridge only through contextBridge.
    expect(HARDENED_WEB_PREFERENCES.nodeIntegration).toBe(false);
    // Runs in the page (a DOM context), so it is given as source text.
    const inWorker = await page.evaluate<string>(`new Promise((resolve) => {
      const blob = new Blob(['postMessage(typeof require + "/" + typeof process)'], { type: 'text/javascript' });
      const worker = new Worker(URL.createObjectURL(blob));
      worker.onmessage = (e) => resolve(String(e.data));
      worker.onerror = () => resolve('blocked');
    })`);
    expect(['undefined/undefined', 'blocked']).toContain(inWorker);
    const inPage = await page.evaluate(() => ({
      require: typeof (globalThis as Record<string, unknown>).require,
      process: typeof (globalThis as Record<string, unknown>).process,
      bridge: typeof (globalThis as Record<string, unknown>).cosigner,
    }));
    expect(inPage).toEqual({ require: 'undefined', process: 'undefined', bridge: 'object' });
    // Navigation away from the app and new windows are refused.
    await page.evaluate(() => (globalThis as unknown as { open(url: string): unknown }).open('https://example.invalid/'));
    expect(app.windows()).toHaveLength(1);
    expect(await app.evaluate(({ webContents }) => webContents.getAllWebContents().length)).toBe(1);
  });
});
