/**
 * "Check for updates" and start at login through the app's own handlers, the contract's dispatcher
 * and its event gate (main/app.ts): the desktop app with an updater port (electron-updater cannot
 * run outside Electron, so a stand-in release feed plays it), and the headless mode with none.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { requests, type StartAtLogin, type UpdateState } from '../../../preload/contract.ts';
import { startServices, type AppConfig, type Services } from '../../../main/app.ts';
import { createDispatcher } from '../../../main/contract-dispatch.ts';
import { HEADLESS_NO_LOGIN_ITEM } from '../../../main/handlers/start-at-login.ts';
import { HEADLESS_UPDATES_OFF } from '../../../main/handlers/updates.ts';
import { FakeUpdater } from '../../support/fake-updater.ts';

describe('updates and start at login in the app', () => {
  const dirs: string[] = [];
  const running: Services[] = [];
  const internalErrors: unknown[] = [];

  afterAll(async () => {
    for (const s of running) await s.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function start(mode: AppConfig['mode'], desktop?: AppConfig['desktop']) {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cosigner-updates-'));
    dirs.push(dataDir);
    const services = await startServices({
      mode,
      dataDir,
      keystore: { kind: 'file', passphrase: 'updates test passphrase' },
      overrides: { network: 'regtest', mdns: false },
      ...(desktop ? { desktop } : {}),
    });
    running.push(services);
    const events: UpdateState[] = [];
    services.subscribeEvents((event, payload) => {
      if (event === 'updates') events.push(payload as UpdateState);
    });
    const call = createDispatcher(requests, services.handlers, (_m, e) => internalErrors.push(e));
    return { call, events };
  }

  it('desktop: each step waits for the user, and each is announced as an event', async () => {
    const feed = new FakeUpdater();
    let openAtLogin = false;
    const { call, events } = await start('electron', {
      updates: { port: feed },
      startAtLogin: { get: () => openAtLogin, set: (open) => void (openAtLogin = open) },
    });
    expect(await call('updates.status', {})).toEqual({ step: 'idle' });
    await expect(call('updates.download', {})).rejects.toMatchObject({ code: 'NO_UPDATE' });
    await expect(call('updates.install', {})).rejects.toMatchObject({ code: 'NO_UPDATE' });

    expect(await call('updates.check', {})).toEqual({ step: 'available', version: '0.2.0' });
    expect(feed.downloads).toBe(0);
    await expect(call('updates.install', {})).rejects.toMatchObject({ code: 'NO_UPDATE' });
    expect(await call('updates.download', {})).toEqual({ step: 'ready', version: '0.2.0' });
    // Asked again once downloaded: the same answer, nothing downloaded twice.
    expect(await call('updates.download', {})).toEqual({ step: 'ready', version: '0.2.0' });
    expect([feed.downloads, feed.installs]).toEqual([1, 0]);
    feed.installFails = new Error('pkexec: the request was dismissed');
    await expect(call('updates.install', {})).rejects.toMatchObject({
      code: 'UPDATE_FAILED',
      message: expect.stringContaining('pkexec: the request was dismissed'),
    });
    expect(await call('updates.status', {})).toMatchObject({ step: 'failed' });
    feed.installFails = undefined;
    expect(await call('updates.check', {})).toEqual({ step: 'available', version: '0.2.0' });
    expect(await call('updates.download', {})).toEqual({ step: 'ready', version: '0.2.0' });
    expect(await call('updates.install', {})).toEqual({ ok: true });
    expect(feed.installs).toBe(2);
    expect(events.map((e) => e.step)).toEqual([
      'checking',
      'available',
      'downloading',
      'ready',
      'failed',
      'checking',
      'available',
      'downloading',
      'ready',
    ]);

    expect(await call('startAtLogin.get', {})).toEqual({ available: true, enabled: false });
    expect(await call('startAtLogin.set', { enabled: true })).toEqual({ available: true, enabled: true });
    expect(openAtLogin).toBe(true);
    await expect(call('startAtLogin.set', { enabled: 'yes' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(internalErrors).toEqual([]);
  });

  it('desktop: a failed check reaches the UI, however long the updater made its message', async () => {
    const feed = new FakeUpdater();
    feed.check = () => Promise.reject(new Error(`HttpError: 404 ${'<html>'.repeat(2000)}`));
    const { call, events } = await start('electron', { updates: { port: feed }, startAtLogin: { get: () => false, set: () => {} } });
    const failed = (await call('updates.check', {})) as UpdateState;
    expect(failed.step).toBe('failed');
    // The event passed the contract's check (one that does not is dropped, and the screen would stay on "Checking").
    expect(events.map((e) => e.step)).toEqual(['checking', 'failed']);
    expect(internalErrors).toEqual([]);
  });

  it('desktop build that cannot update itself: off, with the reason it was given', async () => {
    const why = 'A development build is updated from its source, not from releases.';
    const { call } = await start('electron', { updates: { off: why }, startAtLogin: { get: () => false, set: () => {} } });
    expect(await call('updates.status', {})).toEqual({ step: 'off', why });
  });

  it('headless: no update check and no login item, each saying why', async () => {
    const { call, events } = await start('headless');
    expect(await call('updates.status', {})).toEqual({ step: 'off', why: HEADLESS_UPDATES_OFF });
    for (const step of ['updates.check', 'updates.download', 'updates.install'] as const) {
      await expect(call(step, {}), step).rejects.toMatchObject({ code: 'UPDATES_OFF', message: HEADLESS_UPDATES_OFF });
    }
    expect((await call('startAtLogin.get', {})) as StartAtLogin).toEqual({ available: false, why: HEADLESS_NO_LOGIN_ITEM });
    await expect(call('startAtLogin.set', { enabled: true })).rejects.toMatchObject({ code: 'START_AT_LOGIN_UNAVAILABLE' });
    expect(events).toEqual([]);
  });
});
