import { describe, expect, it } from 'vitest';
import { UpdateFlow, whyNoUpdates, type UpdateState } from '../../../main/desktop/updates.ts';
import { FakeUpdater } from '../../support/fake-updater.ts';

describe('updates: nothing happens without the user', () => {
  it('checks only when asked, and only looks', async () => {
    const port = new FakeUpdater();
    const seen: UpdateState[] = [];
    const flow = new UpdateFlow(port, (s) => seen.push(s));
    expect(port.checks).toBe(0);
    expect(await flow.check()).toEqual({ step: 'available', version: '0.2.0' });
    expect(seen.map((s) => s.step)).toEqual(['checking', 'available']);
    expect(port.downloads).toBe(0);
    expect(port.installs).toBe(0);
  });

  it('downloads only after a yes to a found release, installs only after a yes to a downloaded one', async () => {
    const port = new FakeUpdater();
    const flow = new UpdateFlow(port, () => {});
    await flow.install();
    await flow.download();
    expect([port.downloads, port.installs]).toEqual([0, 0]);
    await flow.check();
    await flow.install();
    expect(port.installs).toBe(0);
    expect(await flow.download()).toEqual({ step: 'ready', version: '0.2.0' });
    await flow.install();
    expect([port.downloads, port.installs]).toEqual([1, 1]);
  });

  it('shows an installer that could not start, and a check after a download keeps the download', async () => {
    const port = new FakeUpdater();
    const flow = new UpdateFlow(port, () => {});
    await flow.check();
    await flow.download();
    port.latest = null;
    expect(await flow.check()).toEqual({ step: 'ready', version: '0.2.0' });
    expect(port.checks).toBe(1);
    port.installFails = new Error('APPIMAGE env is not defined');
    expect(await flow.install()).toEqual({ step: 'failed', message: 'APPIMAGE env is not defined' });
    expect(port.installs).toBe(1);
  });

  it('says when this is the newest release, and reports a failed check as data', async () => {
    const port = new FakeUpdater();
    port.latest = null;
    const flow = new UpdateFlow(port, () => {});
    expect(await flow.check()).toEqual({ step: 'current' });
    port.fail = new Error('offline');
    expect(await flow.check()).toEqual({ step: 'failed', message: 'offline' });
  });

  it('is off without an updater (the headless mode)', async () => {
    const flow = new UpdateFlow(undefined, () => {}, 'the headless mode is updated by whoever runs it');
    expect(flow.state.step).toBe('off');
    expect((await flow.check()).step).toBe('off');
  });

  it('shows no release whose version is not one, and downloads nothing of it', async () => {
    const port = new FakeUpdater();
    port.latest = `0.2.0 ${'x'.repeat(100)}`;
    const flow = new UpdateFlow(port, () => {});
    expect((await flow.check()).step).toBe('failed');
    expect(await flow.download()).toMatchObject({ step: 'failed' });
    expect(port.downloads).toBe(0);
    port.latest = 'v1.4.0-beta.2';
    expect(await flow.check()).toEqual({ step: 'available', version: 'v1.4.0-beta.2' });
  });
});

describe('which desktop copies can update themselves', () => {
  const packaged = { packaged: true, appImage: false, packageType: null };
  it('a packaged app on macOS and Windows, an AppImage or our deb on Linux', () => {
    expect(whyNoUpdates({ ...packaged, platform: 'darwin' })).toBeNull();
    expect(whyNoUpdates({ ...packaged, platform: 'win32' })).toBeNull();
    expect(whyNoUpdates({ ...packaged, platform: 'linux', appImage: true })).toBeNull();
    expect(whyNoUpdates({ ...packaged, platform: 'linux', packageType: 'deb' })).toBeNull();
  });

  it('not a development build, nor a Linux copy installed some other way: each says why', () => {
    expect(whyNoUpdates({ ...packaged, packaged: false, platform: 'darwin' })).toMatch(/development build/);
    expect(whyNoUpdates({ ...packaged, platform: 'linux' })).toMatch(/AppImage or the \.deb/);
    expect(whyNoUpdates({ ...packaged, platform: 'linux', packageType: 'rpm' })).toMatch(/AppImage or the \.deb/);
  });
});
