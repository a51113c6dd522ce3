/** The NAT tests fail, never skip, on a machine that cannot build their network: the message names what is missing. */
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { requireNatPrerequisites } from '../../support/nat-topology.ts';

const savedPath = process.env.PATH;
const where = (tool: string) => execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();
const ipBinary = where('ip');
const dirs: string[] = [];
afterEach(() => {
  process.env.PATH = savedPath;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A PATH holding only these tools. */
function pathWith(...tools: string[]): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cosigner-path-'));
  dirs.push(dir);
  for (const tool of tools) symlinkSync(tool === 'ip' ? ipBinary : where(tool), path.join(dir, tool));
  return dir;
}

describe('NAT test prerequisites', () => {
  it('names `ip` when iproute2 is missing, and `iptables` when iptables is', () => {
    process.env.PATH = pathWith();
    expect(() => requireNatPrerequisites()).toThrow(/need `ip` \(iproute2\)/);
    process.env.PATH = pathWith('ip');
    expect(() => requireNatPrerequisites()).toThrow(/need `iptables`/);
  });

  it('passes on this machine (root, ip and iptables), where the NAT tests must run', () => {
    expect(() => requireNatPrerequisites()).not.toThrow();
  });
});
