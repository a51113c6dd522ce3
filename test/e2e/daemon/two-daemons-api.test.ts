import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { schnorr } from '@noble/curves/secp256k1.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { connectControl } from '../../../main/daemon/control-client.ts';
import { cosignMessage } from '../../../docs/examples/cosign-message.ts';
import { startDaemonPair, type DaemonPair } from '../../support/daemon-process.ts';

// Two `cosigner serve` processes, each with its own data dir and key file, driven only through
// the control API, the way docs/API.md tells a script to. Neither is given a display name: the
// signer card then carries the key's fingerprint.
describe('two headless daemons over the control API', () => {
  let pair: DaemonPair;

  beforeAll(async () => {
    pair = await startDaemonPair('Alice', 'Bob');
  });

  afterAll(async () => {
    await pair?.stop();
  });

  it('refuses a wrong token and a missing one', async () => {
    const url = new URL(pair.a.url);
    await expect(connectControl(`http://${url.host}/#token=not-the-token`)).rejects.toThrow(/HTTP 401/);
    await expect(connectControl(`http://${url.host}/`)).rejects.toThrow(/HTTP 401/);
  });

  const secrets: Uint8Array[] = [];
  const events: unknown[] = [];

  it('co-signs a message: both hold the same BIP322 signature, valid for the group’s address', async () => {
    const secretA = schnorr.utils.randomSecretKey();
    const secretB = schnorr.utils.randomSecretKey();
    secrets.push(secretA, secretB);
    for (const c of [pair.ca, pair.cb])
      for (const name of ['session', 'keys', 'node', 'peers.lan'] as const) c.bridge.subscribe(name, (p) => events.push(p));
    const [keyA] = await pair.importKeys(secretA, secretB);
    expect((await pair.ca.bridge.call('keys.status', {})).key?.publicKey).toBe(keyA.publicKey);

    const done = await cosignMessage(pair.ca.bridge, pair.cb.bridge, 'pay the plumber, invoice 77');
    expect(done.phase).toBe('COMPLETE');
    expect(done.signatures).toHaveLength(1);
    expect(done.signers.every((s) => s.approved && s.nonceReceived && s.partialSignatureReceived)).toBe(true);
  });

  it('never lets a secret key reach a log line, an event or a file in the data directory', async () => {
    expect(events.length).toBeGreaterThan(0);
    const forms = secrets.flatMap((k) => [bytesToHex(k), bytesToHex(k).toUpperCase(), Buffer.from(k).toString('base64')]);
    const haystacks: [string, string][] = [
      ['daemon logs', pair.a.log.join('') + pair.b.log.join('')],
      ['events', JSON.stringify(events)],
    ];
    for (const d of [pair.a, pair.b]) {
      for (const file of await filesUnder(d.dataDir))
        haystacks.push([file, (await readFile(file)).toString('latin1') + (await readFile(file)).toString('utf8')]);
    }
    expect(haystacks.length).toBeGreaterThan(4);
    for (const [where, text] of haystacks) for (const form of forms) expect(text.includes(form), `${where} holds a secret`).toBe(false);
  });

  it('keeps the finished signature across a restart of the daemon', async () => {
    const before = await pair.ca.bridge.call('sessions.list', {});
    const complete = before.find((s) => s.phase === 'COMPLETE');
    expect(complete).toBeDefined();
    await pair.restartA(); // throws unless Alice stopped cleanly (exit code 0)
    const after = await pair.ca.bridge.call('sessions.get', { sessionId: complete!.sessionId });
    expect(after.phase).toBe('COMPLETE');
    expect(after.signatures).toEqual(complete!.signatures);
    // History lists it from the session index after the restart, as a summary.
    const page = await pair.ca.bridge.call('sessions.history', { limit: 10 });
    expect(page.sessions.find((s) => s.sessionId === complete!.sessionId)).toMatchObject({ phase: 'COMPLETE', version: after.version });
  });
});

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}
