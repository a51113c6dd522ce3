/**
 * DesktopPort over Electron: the window, the tray icon and its menu, notifications and the login
 * item. The behaviour behind them is main/desktop/desktop-shell.ts, tested without Electron.
 */
import { app, BrowserWindow, Menu, nativeImage, Notification, Tray } from 'electron';
import os from 'node:os';
import path from 'node:path';
import type { DesktopPort, DesktopNotice } from '../desktop/desktop-port.ts';
import { START_HIDDEN_ARG } from '../desktop/desktop-shell.ts';
import { isAutostartEnabled, setAutostart } from '../desktop/linux-autostart.ts';
import { APP_ENTRY_URL } from './hardening.ts';

const MAX_LIVE_NOTIFICATIONS = 50;

export interface ElectronDesktopOptions {
  iconDir: string;
  /** The one window, created on demand (the app may start hidden, at login). */
  window(): BrowserWindow;
}

export function electronDesktopPort(options: ElectronDesktopOptions): DesktopPort {
  let tray: Tray | undefined;
  // A Notification that is garbage-collected stops delivering its click: keep the shown ones.
  const shown = new Set<Notification>();
  const configHome = process.env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  const executable = process.env.APPIMAGE || process.execPath;
  const loginArgs = [START_HIDDEN_ARG];

  return {
    platform: process.platform,
    setAppUserModelId: (id) => app.setAppUserModelId(id),
    showWindow(view) {
      const window = options.window();
      // Same document, new fragment: the renderer's router follows the hashchange.
      if (view) void window.loadURL(`${APP_ENTRY_URL}#view=${view}`);
      if (window.isMinimized()) window.restore();
      window.show();
      window.focus();
    },
    hideWindow: () => BrowserWindow.getAllWindows().forEach((w) => w.hide()),
    setTray(tooltip, items, onSelect) {
      if (!tray) tray = new Tray(nativeImage.createFromPath(path.join(options.iconDir, 'tray.png')));
      tray.setToolTip(tooltip);
      tray.setContextMenu(
        Menu.buildFromTemplate(
          items.map((item) => ({
            label: item.label,
            ...(item.checked === undefined ? {} : { type: 'checkbox' as const, checked: item.checked }),
            click: () => onSelect(item.id),
          })),
        ),
      );
    },
    notify(notice: DesktopNotice) {
      if (!Notification.isSupported()) return;
      const n = new Notification({ title: notice.title, body: notice.body, icon: path.join(options.iconDir, 'window.png') });
      shown.add(n);
      // Some Linux notification servers never report a close: the oldest is let go past a bound.
      if (shown.size > MAX_LIVE_NOTIFICATIONS) shown.delete(shown.values().next().value!);
      n.on('click', () => {
        shown.delete(n);
        notice.onClick();
      });
      n.on('close', () => shown.delete(n));
      n.show();
    },
    // Windows matches the login item by its arguments too, so both calls name the same ones.
    getOpenAtLogin: () =>
      process.platform === 'linux' ? isAutostartEnabled(configHome) : app.getLoginItemSettings({ args: loginArgs }).openAtLogin,
    setOpenAtLogin(open) {
      if (process.platform === 'linux') setAutostart({ configHome, executable, name: 'Cosigner' }, open);
      else app.setLoginItemSettings({ openAtLogin: open, args: loginArgs });
    },
    quit: () => app.quit(),
  };
}
