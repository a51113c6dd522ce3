/**
 * UpdaterPort over electron-updater, reading the `latest*.yml` files of the project's GitHub
 * releases (electron-builder.yml `publish`). The flow behind it is main/desktop/updates.ts, tested
 * without Electron. Nothing happens unasked: no download after a check, no install at quit.
 *
 * What is checked before an update installs is electron-updater's and the OS's: the file's SHA-512
 * against the release's latest*.yml everywhere; on macOS Squirrel.Mac installs only an app whose
 * code signature satisfies the running app's designated requirement (same Developer ID); on Windows
 * the installer's Authenticode signature must name the publisher of the certificate this build was
 * signed with (app-update.yml `publisherName`, written by electron-builder when it signs). Linux
 * packages carry no code signature: there the checksum, fetched over HTTPS from the same release,
 * is all (docs/RELEASE.md, "Updates").
 */
import { app } from 'electron';
import electronUpdater from 'electron-updater';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { whyNoUpdates, type UpdaterPort } from '../desktop/updates.ts';

export interface ElectronUpdatesOptions {
  /** Called once the installer has the release and the app is about to quit: windows must then
   *  close instead of hiding in the tray. Not called when the installer could not start. */
  onQuitting(): void;
}

export function electronUpdates(options: ElectronUpdatesOptions): { port: UpdaterPort } | { off: string } {
  const why = whyNoUpdates({
    packaged: app.isPackaged,
    platform: process.platform,
    appImage: Boolean(process.env.APPIMAGE),
    packageType: linuxPackageType(),
  });
  if (why) return { off: why };

  const { autoUpdater } = electronUpdater;
  autoUpdater.autoDownload = false;
  autoUpdater.autoInstallOnAppQuit = false;
  autoUpdater.allowPrerelease = false;
  autoUpdater.allowDowngrade = false;
  // The AppImage updater would start the new release at once, while this process still holds the
  // single-instance lock and persists its sessions: the new one would quit at once, and this one
  // too, leaving nothing running. So the file is only replaced, and the new release started by
  // app.relaunch once this process has exited (the deb updater relaunches that way by itself).
  const appImage = process.env.APPIMAGE;
  if (appImage) autoUpdater.autoRunAppAfterInstall = false;
  // Failures reach the flow as rejected promises; the emitter's 'error' event, without a listener,
  // would throw again outside them.
  autoUpdater.on('error', (error) => console.error('updates:', error));

  return {
    port: {
      async check() {
        const result = await autoUpdater.checkForUpdates();
        if (!result) throw new Error('the updater is not active in this build');
        return result.isUpdateAvailable ? { version: result.updateInfo.version } : null;
      },
      async download() {
        await autoUpdater.downloadUpdate();
      },
      async quitAndInstall() {
        // electron-updater reports an installer that cannot start (a missing file, a cancelled
        // pkexec prompt) synchronously, through 'error', and then does not quit.
        let failure: Error | undefined;
        let relaunchPath = appImage;
        const failed = (error: Error) => (failure = error);
        const renamed = (path: string) => (relaunchPath = path);
        autoUpdater.on('error', failed);
        autoUpdater.on('appimage-filename-updated', renamed);
        try {
          autoUpdater.quitAndInstall();
        } finally {
          autoUpdater.off('error', failed);
          autoUpdater.off('appimage-filename-updated', renamed);
        }
        if (failure) throw failure;
        if (relaunchPath) app.relaunch({ execPath: relaunchPath, args: [] });
        options.onQuitting();
      },
    },
  };
}

/** What the Linux installer wrote beside the app (`deb` for our deb); null for an AppImage or elsewhere. */
function linuxPackageType(): string | null {
  if (process.platform !== 'linux') return null;
  try {
    return readFileSync(path.join(process.resourcesPath, 'package-type'), 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') console.error('updates: cannot read package-type:', error);
    return null;
  }
}
