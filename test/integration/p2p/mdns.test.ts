/**
 * mDNS LAN discovery between two real nodes. Multicast needs a LAN, so the nodes run in a child
 * process inside a throwaway network namespace whose loopback carries multicast. It runs twice:
 * in a namespace made by root (`unshare -n`), and in one made by a normal user inside a user
 * namespace (`unshare -rn`, as user nobody when the run is root), as on a desktop. Where a kind of
 * namespace cannot be made the test says why and skips, or fails where the run requires it
 * (COSIGNER_REQUIRE, test/support/prerequisites.ts).
 */
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { gate } from '../../support/prerequisites.ts';

const SETUP = 'ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo';
const isRoot = process.getuid?.() === 0;
/** The command prefix that makes each kind of namespace. */
const variants = {
  root: { prefix: ['unshare', '-n'], prerequisite: 'netns' },
  'a normal user': {
    prefix: isRoot ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', 'unshare', '-rn'] : ['unshare', '-rn'],
    prerequisite: 'user-netns',
  },
} as const;

function whyMissing(prefix: readonly string[]): string | undefined {
  const [cmd, ...args] = prefix as [string, ...string[]];
  const probe = spawnSync(cmd, [...args, 'sh', '-c', SETUP], { encoding: 'utf8' });
  if (probe.error !== undefined) return `cannot run ${cmd}: ${probe.error.message}`;
  if (probe.status !== 0) return `cannot make a network namespace with ${prefix.join(' ')}: ${probe.stderr.trim()}`;
  return undefined;
}

function runChild(prefix: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = path.join(import.meta.dirname, 'mdns-child.ts');
  const [cmd, ...args] = prefix as [string, ...string[]];
  return new Promise((resolve) => {
    const proc = spawn(cmd, [...args, 'sh', '-c', `${SETUP} && exec "$0" "$1"`, process.execPath, child], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => proc.kill('SIGKILL'), 50_000);
    proc.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe.each(Object.entries(variants))('mDNS LAN discovery, in a namespace made by %s', (_who, variant) => {
  const needs = gate({
    [variant.prerequisite]: variant.prerequisite === 'netns' && !isRoot ? 'not root' : whyMissing(variant.prefix),
  });
  it.skipIf(needs.skip !== undefined)(needs.title('two nodes on one LAN find each other, swap cards and talk'), async () => {
    needs.assert();
    const { code, stdout, stderr } = await runChild(variant.prefix);
    const line = stdout.trim().split('\n').at(-1) ?? '';
    expect(line, stderr).toMatch(/^\{/);
    const result = JSON.parse(line);
    expect(result, stderr).toMatchObject({ ok: true, mdns: true });
    expect(code).toBe(0);
    expect(result.aSeesB.cards[0].displayName).toBe('lan-b');
    expect(result.bSeesA.cards[0].displayName).toBe('lan-a');
    expect(result.aSeesB.connected).toBe(true);
    expect(result.delivered).toEqual([{ frame: [0x1a], fromPeer: result.aPeerId }]);
  });
});
