/**
 * mDNS LAN discovery between two real nodes. Multicast needs a LAN, so the nodes run in a child
 * process inside a throwaway network namespace whose loopback carries multicast; where namespaces
 * are unavailable (no privileges, no `unshare`), the test is skipped with the reason printed.
 */
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SETUP = 'ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo';
const probe = spawnSync('unshare', ['-n', 'sh', '-c', SETUP], { encoding: 'utf8' });
const skipReason =
  probe.error !== undefined ? `cannot run unshare: ${probe.error.message}` : probe.status !== 0 ? `cannot make a network namespace: ${probe.stderr.trim()}` : undefined;
if (skipReason !== undefined) console.warn(`[skip] mDNS test: ${skipReason}`);

function runChild(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = path.join(import.meta.dirname, 'mdns-child.ts');
  return new Promise((resolve) => {
    const proc = spawn('unshare', ['-n', 'sh', '-c', `${SETUP} && exec "$0" "$1"`, process.execPath, child], { stdio: ['ignore', 'pipe', 'pipe'] });
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

describe('mDNS LAN discovery', () => {
  it.skipIf(skipReason !== undefined)('two nodes on one LAN find each other, swap cards and talk', async () => {
    const { code, stdout, stderr } = await runChild();
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
