import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ELECTRON_EXTERNALS } from '../../../scripts/electron-externals.ts';
import { ICON_DIR, ICON_OUTPUTS } from '../../../scripts/icon-sizes.ts';
import { gate } from '../../support/prerequisites.ts';
import { packLinuxDir, ROOT } from '../../support/pack-app.ts';

// What the installers carry, from a real electron-builder run over the same configuration (see
// test/support/pack-app.ts for the stand-in Electron binary). Everything esbuild bundled must not
// ship a second time as node_modules, and no second runtime (the `node` package) may ride along.
const require = createRequire(import.meta.url);
const asar = require('@electron/asar') as {
  listPackage(archive: string, options: { isPack: boolean }): string[];
  extractFile(archive: string, filename: string): Buffer;
};

/** app.asar plus its unpacked files: what the app adds to Electron in every installer. */
const BUDGET_BYTES = 12 * 1024 * 1024;

const needs = gate({
  'built-ui': existsSync(path.join(ROOT, 'dist', 'renderer', 'index.html'))
    ? undefined
    : 'dist/renderer not built (npm run build:renderer)',
});

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)],
  );
}

/** Top-level package names under node_modules in a list of archive paths. */
function packagesIn(paths: string[]): Set<string> {
  const names = new Set<string>();
  for (const p of paths) {
    const m = /^\/?node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(p);
    if (m) names.add(m[1]!);
  }
  return names;
}

/** `names` and every package they depend on, transitively, as package-lock.json resolves them. */
function dependencyClosure(names: readonly string[]): Set<string> {
  const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> }>;
  };
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    const entry = lock.packages[`node_modules/${name}`];
    for (const dep of Object.keys({ ...entry?.dependencies, ...entry?.optionalDependencies })) visit(dep);
  };
  names.forEach(visit);
  return seen;
}

describe.skipIf(needs.skip !== undefined)(needs.title('the packed desktop app'), () => {
  const work = mkdtempSync(path.join(tmpdir(), 'cosigner-pack-'));
  let appDir = '';
  let packed: string[] = [];
  let unpacked: string[] = [];

  beforeAll(async () => {
    needs.assert();
    execFileSync(process.execPath, ['scripts/build-electron.ts'], { cwd: ROOT, stdio: 'pipe' });
    execFileSync(process.execPath, ['scripts/make-icons.ts'], { cwd: ROOT, stdio: 'pipe' });
    appDir = await packLinuxDir(work);
    const resources = path.join(appDir, 'resources');
    packed = asar
      .listPackage(path.join(resources, 'app.asar'), { isPack: true })
      .filter((line) => line.startsWith('pack'))
      .map((line) => line.replace(/^pack\s*:\s*/, ''));
    const unpackedDir = path.join(resources, 'app.asar.unpacked');
    unpacked = existsSync(unpackedDir) ? walk(unpackedDir).map((f) => '/' + path.relative(unpackedDir, f).split(path.sep).join('/')) : [];
  }, 180_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('holds the bundles, the renderer and package.json, and no source maps', () => {
    expect(packed).toEqual(
      expect.arrayContaining(['/dist/electron/main.mjs', '/dist/electron/preload.cjs', '/dist/renderer/index.html', '/package.json']),
    );
    expect(packed.filter((p) => p.endsWith('.map'))).toEqual([]);
  });

  it('holds the window and tray icons, each a PNG of the size its name promises', () => {
    expect(packed).toEqual(expect.arrayContaining(['/dist/icons/window.png', '/dist/icons/tray.png', '/dist/icons/tray@2x.png']));
    // The installers' icons are not app files: electron-builder takes them from dist/icons.
    expect(packed.filter((p) => p.startsWith('/dist/icons/linux') || p === '/dist/icons/icon.png')).toEqual([]);
    for (const { file, size } of ICON_OUTPUTS) {
      const png = readFileSync(path.join(ROOT, ICON_DIR, file));
      expect(png.subarray(1, 4).toString('latin1'), file).toBe('PNG');
      // IHDR: width and height, big-endian, at bytes 16 and 20.
      expect([png.readUInt32BE(16), png.readUInt32BE(20)], file).toEqual([size, size]);
    }
  });

  it('keeps keytar native module outside the asar, where it can be loaded', () => {
    expect(unpacked).toContain('/node_modules/keytar/build/Release/keytar.node');
    expect(unpacked).toContain('/node_modules/keytar/lib/keytar.js');
  });

  it('carries no package twice: node_modules holds only the externals and what they depend on', () => {
    const shipped = new Set([...packagesIn(packed), ...packagesIn(unpacked)]);
    const externals = ELECTRON_EXTERNALS.filter((name) => name !== 'electron');
    // electron-builder copies each production dependency with its own dependencies (for keytar,
    // prebuild-install's, which only its install uses: a known waste of about 1 MB); anything else
    // would be a package esbuild already put in the bundle.
    expect([...shipped].filter((name) => !dependencyClosure(externals).has(name))).toEqual([]);
    for (const name of externals) expect(shipped).toContain(name);
    // The production dependencies are exactly those externals: electron-builder copies every one.
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    expect(Object.keys(pkg.dependencies ?? {}).sort()).toEqual([...externals].sort());
  });

  it('carries the update check inside the main bundle: electron-updater is bundled, not beside it', () => {
    const main = asar.extractFile(path.join(appDir, 'resources', 'app.asar'), 'dist/electron/main.mjs').toString('utf8');
    // esbuild names each bundled module's source; the feed file is electron-updater's own word.
    expect(main).toContain('node_modules/electron-updater/out/main.js');
    expect(main).toContain('app-update.yml');
    expect(main).not.toMatch(/require\(["']electron-updater["']\)|from ["']electron-updater["']/);
    expect([...packagesIn(packed), ...packagesIn(unpacked)].filter((name) => name.includes('updater'))).toEqual([]);
  });

  it('ships no second runtime: no node binary anywhere in the app', () => {
    const files = walk(appDir).map((f) => path.relative(appDir, f).split(path.sep).join('/'));
    expect(files.filter((f) => /(^|\/)node(\.exe)?$/.test(f) || f.includes('node_modules/node/'))).toEqual([]);
    expect(packed.filter((p) => p.startsWith('/node_modules/node/'))).toEqual([]);
  });

  it('stays within its size budget', () => {
    const resources = path.join(appDir, 'resources');
    const sizeOf = (files: string[]) => files.reduce((n, f) => n + statSync(f).size, 0);
    const asarBytes = statSync(path.join(resources, 'app.asar')).size;
    const unpackedBytes = sizeOf(
      existsSync(path.join(resources, 'app.asar.unpacked')) ? walk(path.join(resources, 'app.asar.unpacked')) : [],
    );
    const byTop = new Map<string, number>();
    for (const p of packed) {
      const top = p
        .split('/')
        .slice(0, p.startsWith('/node_modules/@') ? 4 : 3)
        .join('/');
      byTop.set(top, (byTop.get(top) ?? 0) + 1);
    }
    const mb = (n: number) => (n / 1024 / 1024).toFixed(2);
    console.log(
      `packed app: app.asar ${mb(asarBytes)} MB + unpacked ${mb(unpackedBytes)} MB (budget ${mb(BUDGET_BYTES)} MB)\n` +
        [...byTop].map(([top, n]) => `  ${top}: ${n} entries`).join('\n') +
        `\n  unpacked: ${unpacked.join(', ')}`,
    );
    expect(asarBytes + unpackedBytes).toBeLessThanOrEqual(BUDGET_BYTES);
  });

  it('flips the production fuses in the packed executable', async () => {
    const { getCurrentFuseWire, FuseV1Options } = require('@electron/fuses') as typeof import('@electron/fuses');
    const wire = (await getCurrentFuseWire(path.join(appDir, 'cosigner'))) as unknown as Record<number, number>;
    const off = 48;
    const on = 49;
    expect(wire[FuseV1Options.RunAsNode]).toBe(off);
    expect(wire[FuseV1Options.EnableNodeOptionsEnvironmentVariable]).toBe(off);
    expect(wire[FuseV1Options.EnableNodeCliInspectArguments]).toBe(off);
    expect(wire[FuseV1Options.EnableEmbeddedAsarIntegrityValidation]).toBe(on);
    expect(wire[FuseV1Options.OnlyLoadAppFromAsar]).toBe(on);
  });
});
