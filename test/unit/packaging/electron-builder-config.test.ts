import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { APP_ID } from '../../../main/desktop/desktop-shell.ts';
import { ICON_DIR, ICON_OUTPUTS, LINUX_ICON_SIZES } from '../../../scripts/icon-sizes.ts';

// The Electron binary cannot be downloaded on every machine, so installers are built in the
// release workflow; here the configuration is checked with electron-builder's own validator.
const require = createRequire(import.meta.url);
const root = path.resolve(import.meta.dirname, '../../..');
const yaml = require('js-yaml') as { load(text: string): unknown };
const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
  validateConfiguration(config: unknown, debugLogger: { isEnabled: boolean; add(): void }): Promise<void>;
};
const debugLogger = { isEnabled: false, add() {} };

function loadConfig(): Record<string, unknown> {
  return yaml.load(readFileSync(path.join(root, 'electron-builder.yml'), 'utf8')) as Record<string, unknown>;
}

describe('electron-builder.yml', () => {
  it('passes electron-builder configuration schema validation', async () => {
    await expect(validateConfiguration(loadConfig(), debugLogger)).resolves.toBeUndefined();
  });

  it('is rejected by the same validator when an option is misspelled (the check can fail)', async () => {
    const config = { ...loadConfig(), asarUnpak: ['x'] };
    await expect(validateConfiguration(config, debugLogger)).rejects.toThrow(/asarUnpak/);
  });

  it('builds the installers the design names, with production fuses and keytar unpacked', () => {
    const config = loadConfig() as {
      win: { target: { target: string }[] };
      mac: { target: { target: string }[]; hardenedRuntime: boolean; notarize: boolean };
      linux: { target: string[] };
      asarUnpack: string[];
      electronFuses: Record<string, boolean>;
    };
    expect(config.win.target.map((t) => t.target)).toEqual(['nsis']);
    expect(config.mac.target.map((t) => t.target)).toEqual(['dmg', 'zip']);
    expect(config.mac.hardenedRuntime).toBe(true);
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.asarUnpack.some((p) => p.includes('keytar'))).toBe(true);
    expect(config.electronFuses).toMatchObject({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
    });
  });

  it('feeds the update check from GitHub releases, with the Windows publisher check left on', () => {
    const config = loadConfig() as {
      publish: { provider: string; releaseType?: string };
      win: { verifyUpdateCodeSignature?: boolean };
    };
    expect(config.publish).toMatchObject({ provider: 'github', releaseType: 'release' });
    // Off, electron-updater on Windows would run any installer the feed names; on, the installer must
    // be signed by the publisher of this build's certificate (main/electron/updater-adapter.ts).
    expect(config.win.verifyUpdateCodeSignature).not.toBe(false);
  });

  it("keeps electron-builder's default deb dependencies, which name the Secret Service client keytar needs", () => {
    const config = loadConfig() as { deb?: { depends?: string[] } };
    // An override replaces the defaults (GTK, NSS, xdg-utils...) instead of adding to them.
    expect(config.deb?.depends).toBeUndefined();
    const FpmTarget = (
      require('app-builder-lib/out/targets/FpmTarget.js') as { default: { prototype: { getDefaultDepends(target: string): string[] } } }
    ).default;
    const defaults = FpmTarget.prototype.getDefaultDepends('deb');
    expect(defaults).toEqual(expect.arrayContaining(['libgtk-3-0', 'libnss3', 'xdg-utils', 'libsecret-1-0']));
  });

  it('gives every installer the icons made from assets/icon.svg, and macOS the local-network reason', () => {
    const config = loadConfig() as {
      icon: string;
      linux: { icon: string };
      files: string[];
      mac: { extendInfo: Record<string, unknown> };
    };
    const made = new Set(ICON_OUTPUTS.map((o) => path.posix.join(ICON_DIR, o.file)));
    expect(made.has(config.icon)).toBe(true);
    expect(ICON_OUTPUTS.find((o) => path.posix.join(ICON_DIR, o.file) === config.icon)!.size).toBeGreaterThanOrEqual(512);
    expect(LINUX_ICON_SIZES.every((n) => made.has(`${config.linux.icon}/${n}x${n}.png`))).toBe(true);
    expect(config.files).toEqual(expect.arrayContaining([`${ICON_DIR}/window.png`, `${ICON_DIR}/tray*.png`]));
    expect(String(config.mac.extendInfo.NSLocalNetworkUsageDescription)).toMatch(/co-signers/);
    // Windows ties notifications to the AppUserModelID the app sets: it must be the installer's appId.
    expect((config as unknown as { appId: string }).appId).toBe(APP_ID);
  });
});
