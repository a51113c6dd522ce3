import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../../..');
const vitestBin = path.join(root, 'node_modules/vitest/vitest.mjs');
const config = path.join(root, 'test/fixtures/reporter/vitest.config.ts');

/** Runs one fixture file under Vitest with the summary reporter; returns its closing line and exit code. */
function run(fixture: string): { line: string; status: number | null; output: string } {
  const result = spawnSync(process.execPath, [vitestBin, 'run', '--config', config], {
    cwd: root,
    env: { ...process.env, FIXTURE: fixture, CI: 'true' },
    encoding: 'utf8',
    timeout: 50_000,
  });
  const output = `${result.stdout}\n${result.stderr}`;
  const line = output.split('\n').find((l) => /^\d+ passed, \d+ failed, \d+ skipped$/.test(l.trim())) ?? '';
  return { line: line.trim(), status: result.status, output };
}

describe('the closing line agrees with Vitest exit code', () => {
  it('counts a suite whose beforeAll throws as failed', () => {
    const { line, status, output } = run('broken-before-all.fixture.ts');
    expect(status, output).toBe(1);
    expect(line, output).toBe('1 passed, 1 failed, 2 skipped');
    expect(output).toContain('set-up failed on purpose');
  });

  it('counts a file whose afterAll throws as failed', () => {
    const { line, status, output } = run('broken-after-all.fixture.ts');
    expect(status, output).toBe(1);
    expect(line, output).toBe('1 passed, 1 failed, 0 skipped');
  });

  it('counts an unhandled error as failed', () => {
    const { line, status, output } = run('unhandled.fixture.ts');
    expect(status, output).toBe(1);
    expect(line, output).toMatch(/^1 passed, 1 failed, 0 skipped$/);
  });

  it('says 0 failed only when Vitest exits 0', () => {
    const { line, status, output } = run('clean.fixture.ts');
    expect(status, output).toBe(0);
    expect(line, output).toBe('1 passed, 0 failed, 1 skipped');
  });
});
