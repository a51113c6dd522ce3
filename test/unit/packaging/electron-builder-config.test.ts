import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

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
    expect(config.mac.target.map((t) => t.target)).toEqual(['dmg']);
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
});
