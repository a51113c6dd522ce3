/**
 * Against a real Secret Service. Run as
 *   scripts/with-keyring.sh npx vitest run test/integration/keys
 * which starts a throwaway D-Bus session with an unlocked gnome-keyring in a temporary HOME and
 * sets COSIGNER_TEST_KEYRING=1. Without it, the tests that need the keychain skip and say so; the
 * "unavailable" tests run everywhere (they only need the keytar module to load).
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { KEYCHAIN_HINTS, type KeytarApi, openKeystore } from '../../../main/keys/index.ts';
import { seededRandom } from '../../support/random.ts';
import { expectNoSecrets, failure } from '../../support/keys.ts';
import { gate } from '../../support/prerequisites.ts';
import { runChild } from './run-child.ts';

const needs = gate({
  'secret-service':
    process.env.COSIGNER_TEST_KEYRING === '1'
      ? undefined
      : 'no throwaway Secret Service: run under scripts/with-keyring.sh to test the real keychain',
});

const service = `cosigner-test-${process.pid}`;
const options = { kind: 'keychain' as const, profile: 'itest', dataDir: '/nonexistent', service };

describe('OS keychain (Secret Service through keytar)', () => {
  it('create → confirm backup → a new process reads the same public key → delete', async (ctx) => {
    if (needs.skip !== undefined) ctx.skip(needs.skip);
    needs.assert();
    const events: unknown[] = [];
    const keystore = openKeystore({ ...options, random: seededRandom('keychain'), onEvent: (e) => events.push(e) });
    expect(keystore.backendKind).toBe('keychain');
    expect(await keystore.info()).toBeNull();

    const pending = await keystore.beginCreate();
    expect(await runChild('info', options)).toEqual({ info: null }); // nothing stored before confirmation
    const info = await keystore.confirmBackup(pending.id, pending.words().join(' '));

    expect(await runChild('info', options)).toEqual({ info });

    // What is in the keychain: the record as hex, under the documented service and account.
    const keytar = createRequire(import.meta.url)('keytar') as KeytarApi;
    const stored = await keytar.getPassword(service, 'itest/signer-key');
    expect(stored).toMatch(/^0100[0-9a-f]{64}$/);

    const identity = await keystore.peerIdentity();
    expect(await runChild('peer-id', options)).toEqual({ peerId: identity.peerId });

    const signer = await keystore.loadSigner();
    expectNoSecrets([info, pending, signer, identity, ...events], {
      bytes: [signer.secretKey()],
      mnemonics: [pending.words().join(' ')],
    });

    expect((await failure(keystore.delete('00000000'))).code).toBe('CONFIRMATION_MISMATCH');
    await keystore.delete(info.fingerprint);
    expect(await runChild('info', options)).toEqual({ info: null });
    expect(await keytar.getPassword(service, 'itest/signer-key')).toBeNull();
    expect(await keytar.getPassword(service, '.probe')).toBeNull();
    await keytar.deletePassword(service, 'itest/peer-identity');
  });

  // Last in this file: unlocking replaces the keyring daemon, after which this process's libsecret
  // connection points at the old daemon, so everything after the lock happens in new processes.
  it('a locked keyring is KEYCHAIN_UNAVAILABLE locked, not "no key"', async (ctx) => {
    if (needs.skip !== undefined) ctx.skip(needs.skip);
    needs.assert();
    const locked = { ...options, profile: 'locked' };
    const info = await openKeystore(locked).importSecretHex('11'.repeat(32));
    await run('dbus-send', [
      '--session',
      '--print-reply',
      '--dest=org.freedesktop.secrets',
      '/org/freedesktop/secrets',
      'org.freedesktop.Secret.Service.Lock',
      'array:objpath:/org/freedesktop/secrets/collection/login',
    ]);
    try {
      // libsecret answers lookups in a locked collection with "nothing there"; the keystore must not.
      const e = await failure(openKeystore(locked).info());
      expect(e.code).toBe('KEYCHAIN_UNAVAILABLE');
      expect(e.context.reason).toBe('locked');
      expect(e.context.hint).toBe(KEYCHAIN_HINTS.locked);
      expect((await failure(openKeystore(locked).beginCreate())).code).toBe('KEYCHAIN_UNAVAILABLE');
      const child = await runChild('info', locked);
      expect(child.error).toBe('KEYCHAIN_UNAVAILABLE');
      expect(child.context).toMatchObject({ reason: 'locked' });
    } finally {
      await unlockThrowawayKeyring();
    }
    // Unlocked again, the key is there as it was.
    expect(await waitForInfo(locked)).toEqual({ info });
    expect(await runChild('delete', locked, process.env, info.fingerprint)).toEqual({ deleted: true });
  });
});

const run = promisify(execFile);

/**
 * Unlocking through the Secret Service API needs a GUI prompt, which a headless session lacks;
 * gnome-keyring's own way is a replacement daemon given the login password on stdin (the password
 * scripts/with-keyring.sh uses).
 */
async function unlockThrowawayKeyring(): Promise<void> {
  const child = execFile('gnome-keyring-daemon', ['--replace', '--unlock', '--components=secrets']);
  child.stdin?.end('throwaway');
  await new Promise((resolve) => child.on('exit', resolve));
}

/** The replacement daemon takes a moment to own the bus name: ask new processes until one gets an answer. */
async function waitForInfo(opts: typeof options): Promise<Record<string, unknown>> {
  let last: Record<string, unknown> = {};
  for (let attempt = 0; attempt < 20; attempt++) {
    last = await runChild('info', opts);
    if (last.error === undefined) return last;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return last;
}

describe('OS keychain unavailable', () => {
  const LINUX_REASON = 'D-Bus is the Secret Service transport on Linux only';
  const base = { ...process.env };
  delete base.DISPLAY;
  delete base.WAYLAND_DISPLAY;

  it('a dead D-Bus address: a new process gets KEYCHAIN_UNAVAILABLE (no-session-bus) with a hint', async (ctx) => {
    if (process.platform !== 'linux') ctx.skip(LINUX_REASON);
    const result = await runChild('info', options, { ...base, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent' });
    expect(result.error).toBe('KEYCHAIN_UNAVAILABLE');
    expect(result.context).toMatchObject({ reason: 'no-session-bus', hint: KEYCHAIN_HINTS['no-session-bus'] });
    expect(result.message).toBe('OS keychain unavailable: no D-Bus session bus');
    expect(result.keytarLoaded).toBe(true);
  });

  it('no D-Bus address and no display ("Cannot autolaunch D-Bus"): the same typed error', async (ctx) => {
    if (process.platform !== 'linux') ctx.skip(LINUX_REASON);
    const env = { ...base };
    delete env.DBUS_SESSION_BUS_ADDRESS;
    const result = await runChild('info', options, env);
    expect(result.error).toBe('KEYCHAIN_UNAVAILABLE');
    expect(result.context).toMatchObject({ reason: 'no-session-bus' });
    expect(String((result.context as Record<string, unknown>).detail)).toMatch(/D-Bus|connect/i);
  });
});
