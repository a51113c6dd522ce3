/**
 * The desktop app's keystore choice through the app's own handlers and the contract's dispatcher:
 * on a desktop whose keychain cannot be reached, keys.useFile keeps the key in a new encrypted file;
 * the next start opens that file locked, and the signing stack starts once its passphrase is typed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { requests } from '../../../preload/contract.ts';
import { startServices, type Services } from '../../../main/app.ts';
import { createDispatcher } from '../../../main/contract-dispatch.ts';
import { CosignerError } from '../../../main/errors.ts';
import type { SecretBackend } from '../../../main/keys/index.ts';
import { SwitchableBackend } from '../../../main/keys/switchable-backend.ts';

/** A desktop without a Secret Service: every keychain call fails as keytar's backend reports it. */
const noKeychain: SecretBackend = {
  kind: 'keychain',
  get: () => Promise.reject(new CosignerError('KEYCHAIN_UNAVAILABLE', 'no Secret Service on the session bus')),
  set: () => Promise.reject(new CosignerError('KEYCHAIN_UNAVAILABLE', 'no Secret Service on the session bus')),
  delete: () => Promise.reject(new CosignerError('KEYCHAIN_UNAVAILABLE', 'no Secret Service on the session bus')),
};
const PASS = 'a long passphrase of several words';
const SECRET = '1d'.repeat(32);

describe('desktop app without a keychain: the encrypted key file', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cosigner-keyfile-choice-'));
  const running: Services[] = [];
  const errors: unknown[] = [];
  const start = async (backend: SwitchableBackend) => {
    const services = await startServices({
      mode: 'electron',
      dataDir,
      keystore: { kind: 'switchable', backend },
      overrides: { network: 'regtest', mdns: false, listenAddresses: ['/ip4/127.0.0.1/tcp/0'] },
    });
    running.push(services);
    return createDispatcher(requests, services.handlers, (_m, e) => errors.push(e));
  };

  afterAll(async () => {
    for (const s of running) await s.stop();
    rmSync(dataDir, { recursive: true, force: true });
    expect(errors).toEqual([]);
  });

  it('keeps the key in a new file, and unlocks it at the next start', async () => {
    let call = await start(SwitchableBackend.keychain(noKeychain));
    expect(await call('keys.status', {})).toMatchObject({ backend: 'keychain', key: null, problem: { code: 'KEYCHAIN_UNAVAILABLE' } });
    await expect(call('keys.useFile', { passphrase: 'too short' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(await call('keys.useFile', { passphrase: PASS })).toEqual({ backend: 'file', key: null, problem: null });
    const key = await call('keys.importSecret', { secretHex: SECRET });
    await running.pop()!.stop();

    call = await start(SwitchableBackend.lockedFile());
    expect(await call('keys.status', {})).toMatchObject({ backend: 'file', key: null, problem: { code: 'PASSPHRASE_REQUIRED' } });
    await expect(call('keys.useFile', { passphrase: 'the wrong passphrase' })).rejects.toMatchObject({ code: 'WRONG_PASSPHRASE' });
    expect(await call('keys.useFile', { passphrase: PASS })).toEqual({ backend: 'file', key, problem: null });
    // The signing stack runs with the unlocked key.
    expect(await call('node.status', {})).toMatchObject({ peerId: expect.stringMatching(/^12D3KooW/) });
  });

  it('is refused in the headless mode, which reads its passphrase before it starts', async () => {
    const headlessDir = path.join(dataDir, 'headless');
    const headless = await startServices({
      mode: 'headless',
      dataDir: headlessDir,
      keystore: { kind: 'file', passphrase: PASS },
      overrides: { mdns: false },
    });
    running.push(headless);
    const call = createDispatcher(requests, headless.handlers, (_m, e) => errors.push(e));
    await expect(call('keys.useFile', { passphrase: PASS })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});
