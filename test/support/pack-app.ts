/**
 * Packs the desktop app with electron-builder's `--dir` target for Linux, around a stand-in
 * Electron distribution: the real binary cannot be downloaded on every machine. electron-builder
 * takes an unpacked distribution from `electronDist` (a directory holding the `electron`
 * executable and `resources/`), copies it, renames the executable to `executableName`, writes the
 * asar from the same `files`/`asarUnpack` selection as a release build and flips the fuses, which
 * it finds by the fuse sentinel: the stand-in carries that sentinel and an eight-fuse wire, so the
 * fuse step runs for real and can be read back. One setting differs from a release build: no
 * native rebuild of keytar for Electron (it downloads Electron's headers); the files are the same.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
export const ROOT = path.resolve(import.meta.dirname, '../..');

/** @electron/fuses' sentinel, followed by the wire version (1) and length (8), all fuses '1'. */
const FUSE_SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';

export function writeStandInElectron(dir: string): void {
  mkdirSync(path.join(dir, 'resources'), { recursive: true });
  const script = Buffer.concat([
    Buffer.from('#!/bin/sh\necho "stand-in Electron"\nexit 0\n# '),
    Buffer.from(FUSE_SENTINEL),
    Buffer.from([1, 8]),
    Buffer.from('11111111\n'),
  ]);
  writeFileSync(path.join(dir, 'electron'), script, { mode: 0o755 });
}

export function loadBuilderConfig(): Record<string, unknown> {
  const yaml = require('js-yaml') as { load(text: string): unknown };
  return yaml.load(readFileSync(path.join(ROOT, 'electron-builder.yml'), 'utf8')) as Record<string, unknown>;
}

/** Packs into `<outDir>/linux-unpacked` and returns that directory. */
export async function packLinuxDir(workDir: string): Promise<string> {
  const electronDist = path.join(workDir, 'electron-dist');
  writeStandInElectron(electronDist);
  const { build, Platform } = require('electron-builder') as typeof import('electron-builder');
  const config = loadBuilderConfig();
  const output = path.join(workDir, 'out');
  await build({
    projectDir: ROOT,
    targets: Platform.LINUX.createTarget('dir'),
    publish: 'never',
    config: {
      ...config,
      electronDist,
      npmRebuild: false,
      directories: { ...(config.directories as object), output },
    },
  });
  return path.join(output, 'linux-unpacked');
}
