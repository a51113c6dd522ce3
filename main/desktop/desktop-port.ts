/**
 * What the desktop shell needs from Electron, as a port: main/electron/desktop-adapter.ts
 * implements it over BrowserWindow, Tray, Notification and app; tests pass a fake. Nothing here
 * imports electron, so the shell's behaviour is tested in plain Node.
 */
export interface TrayMenuItem {
  id: 'open' | 'pause' | 'login' | 'quit';
  label: string;
  /** Shown as a check box when set. */
  checked?: boolean;
}

export interface DesktopNotice {
  title: string;
  body: string;
  onClick: () => void;
}

export interface DesktopPort {
  readonly platform: NodeJS.Platform;
  /** Windows groups notifications and taskbar entries by this id; without it they show "electron.app.Electron". */
  setAppUserModelId(id: string): void;
  /** Shows the window (creating it if needed) at the app's screen for `view`, e.g. `session/<id>`. */
  showWindow(view?: string): void;
  hideWindow(): void;
  /** Replaces the tray icon's menu; `onSelect` gets the chosen item's id. */
  setTray(tooltip: string, items: TrayMenuItem[], onSelect: (id: TrayMenuItem['id']) => void): void;
  notify(notice: DesktopNotice): void;
  getOpenAtLogin(): boolean;
  setOpenAtLogin(open: boolean): void;
  /** Quits for real: services are stopped by the app's before-quit handler. */
  quit(): void;
}
