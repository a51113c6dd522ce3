import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ElectronApplication, Page } from 'playwright-core';
import { autostartFile } from '../../../main/desktop/linux-autostart.ts';
import { START_HIDDEN_ARG } from '../../../main/desktop/desktop-shell.ts';
import { HARDENED_WEB_PREFERENCES } from '../../../main/electron/hardening.ts';
import { keyFilePath } from '../../../main/keys/index.ts';
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

const PASSPHRASE = 'electron test key file passphrase';

/** What the app's windows are, as the main process sees them. */
type WindowState = { visible: boolean; destroyed: boolean };

describe.skipIf(needs.skip !== undefined)(needs.title('the Electron app'), () => {
  beforeAll(() => needs.assert());
  let app: ElectronApplication | undefined;
  let page: Page;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'cosigner-electron-'));
  // Start at login on Linux writes an XDG autostart entry: here, never in the user's own ~/.config.
  const configHome = mkdtempSync(path.join(tmpdir(), 'cosigner-electron-config-'));

  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(configHome, { recursive: true, force: true });
  });

  async function launch(): Promise<ElectronApplication> {
    const { _electron } = await import('playwright-core');
    app = await _electron.launch({
      executablePath: binary!,
      args: [ROOT, '--no-sandbox'],
      env: { ...process.env, COSIGNER_DATA_DIR: dataDir, XDG_CONFIG_HOME: configHome },
    });
    page = await app.firstWindow();
    await page.waitForLoadState('domcontentloaded');
    return app;
  }

  /** A request through the preload bridge, as the renderer makes it. */
  function call(name: string, args: unknown): Promise<{ ok: boolean; result?: unknown; error?: { code: string } }> {
    return page.evaluate(
      ([n, a]) =>
        (globalThis as unknown as { cosigner: { requests: Record<string, (x: unknown) => Promise<never>> } }).cosigner.requests[n]!(a),
      [name, args] as const,
    );
  }

  const windows = (): Promise<WindowState[]> =>
    app!.evaluate(({ BrowserWindow }) =>
      BrowserWindow.getAllWindows().map((w) => ({ visible: w.isVisible(), destroyed: w.isDestroyed() })),
    );

  it('opens one hardened window on the app scheme, with the preload bridge and no Node', async () => {
    app = await launch();
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

  it('offers the encrypted key file, and asks its passphrase at the next start', async () => {
    // Where the keychain works, the first-run screen offers no file: the same request is made by hand.
    if (await page.getByTestId('use-key-file').isVisible()) {
      await page.getByTestId('new-passphrase').fill(PASSPHRASE);
      await page.getByTestId('new-passphrase-again').fill(PASSPHRASE);
      await page.getByTestId('use-key-file-submit').click();
    } else {
      expect((await call('keys.useFile', { passphrase: PASSPHRASE })).ok).toBe(true);
    }
    await expect.poll(async () => ((await call('keys.status', {})).result as { backend: string }).backend).toBe('file');
    // Kept to this machine: no network before the key exists, so these apply at the stack's first start.
    expect(
      (await call('settings.set', { mdns: false, upnp: false, publicNetwork: false, listenAddresses: ['/ip4/127.0.0.1/tcp/0'] })).ok,
    ).toBe(true);
    expect((await call('keys.importSecret', { secretHex: '3c'.repeat(32) })).ok).toBe(true);
    expect(existsSync(keyFilePath(dataDir, 'default'))).toBe(true);

    await app!.close();
    app = await launch();
    await page.getByTestId('unlock-key-file').waitFor();
    await page.getByTestId('unlock-passphrase').fill(PASSPHRASE);
    await page.getByTestId('unlock-submit').click();
    await page.getByTestId('local-public-key').waitFor({ timeout: 30_000 });
  });

  it('has Check for updates in Settings (off in a development build, saying why) and start at login', async () => {
    await page.getByTestId('nav-settings').click();
    await page.locator('[data-testid="update-check"][data-step="off"]').waitFor();
    expect(await page.getByTestId('update-state').textContent()).toContain('development build');
    await page.locator('[data-testid="start-at-login"][data-available="true"]').waitFor();
    // Only where the entry is a file this test owns (XDG_CONFIG_HOME above): elsewhere it is the OS's login items.
    if (process.platform === 'linux') {
      await page.getByTestId('start-at-login-toggle').check();
      await expect.poll(() => existsSync(autostartFile(configHome))).toBe(true);
      expect(readFileSync(autostartFile(configHome), 'utf8')).toContain(START_HIDDEN_ARG);
      await page.getByTestId('start-at-login-toggle').uncheck();
      await expect.poll(() => existsSync(autostartFile(configHome))).toBe(false);
    }
  });

  it('keeps running in the tray when the window is closed, says so in a notification, and opens again', async () => {
    // Notifications are watched, not replaced: each one shown is recorded, then shown as usual.
    const supported = await app!.evaluate(({ Notification }) => {
      const shown: string[] = [];
      (globalThis as unknown as { shownNotices: string[] }).shownNotices = shown;
      const show = Notification.prototype.show;
      Notification.prototype.show = function (this: Electron.Notification) {
        shown.push(this.title);
        show.call(this);
      };
      return Notification.isSupported();
    });
    await app!.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows()[0]!.close());
    await expect.poll(windows).toEqual([{ visible: false, destroyed: false }]);
    expect(app!.process().exitCode).toBeNull();
    const notices = await app!.evaluate(() => (globalThis as unknown as { shownNotices: string[] }).shownNotices);
    expect(notices).toEqual(supported ? ['Cosigner is still running'] : []);
    // A second start of the app (as the tray's Open does) shows the same window again.
    await app!.evaluate(({ app: electronApp }) => electronApp.emit('second-instance'));
    await expect.poll(windows).toEqual([{ visible: true, destroyed: false }]);
  });
});
