/**
 * The bundled daemon (dist/cli.mjs, what `npm start` runs headless and `bin/cosigner.js` prefers)
 * loads: a dependency that reads a file by a path relative to its own module (UPnP's SSDP reads its
 * package.json) crashed the bundle at start while the TypeScript sources ran fine.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../support/daemon-process.ts';

describe('the bundled daemon', () => {
  it('builds and starts: both commands print their usage', { timeout: 120_000 }, () => {
    execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build-daemon.ts')], { cwd: ROOT, stdio: 'pipe' });
    const bundle = path.join(ROOT, 'dist', 'cli.mjs');
    expect(execFileSync(process.execPath, [bundle, 'relay', '--help'], { encoding: 'utf8' })).toMatch(/^Usage: cosigner relay/);
    expect(execFileSync(process.execPath, [bundle, 'serve', '--help'], { encoding: 'utf8' })).toMatch(/--relay ADDR/);
  });
});
