import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CosignerError } from '../errors.ts';
import { START_HIDDEN_ARG } from './desktop-shell.ts';

/**
 * Start at login on Linux: Electron's login-item settings exist only on macOS and Windows, so the
 * app writes an XDG autostart entry (freedesktop.org Desktop Application Autostart spec) itself.
 */
export interface AutostartOptions {
  /** $XDG_CONFIG_HOME, or ~/.config. */
  configHome: string;
  /** The file to run: an AppImage's own path ($APPIMAGE), else the installed executable. */
  executable: string;
  name: string;
}

export function autostartFile(configHome: string): string {
  return path.join(configHome, 'autostart', 'cosigner.desktop');
}

export function autostartEntry(executable: string, name: string): string {
  // Exec quoting per the Desktop Entry spec: the path in double quotes, with ", `, $ and \ escaped.
  const quoted = `"${executable.replace(/(["`$\\])/g, '\\$1')}"`;
  return [
    '[Desktop Entry]',
    'Type=Application',
    `Name=${name}`,
    `Exec=${quoted} ${START_HIDDEN_ARG}`,
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n');
}

export function isAutostartEnabled(configHome: string): boolean {
  return existsSync(autostartFile(configHome));
}

/** Writes or removes the entry; a file system that refuses is STORAGE_FAILED, naming the file. */
export function setAutostart(options: AutostartOptions, enabled: boolean): void {
  const file = autostartFile(options.configHome);
  try {
    if (!enabled) {
      rmSync(file, { force: true });
      return;
    }
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, autostartEntry(options.executable, options.name), { mode: 0o644 });
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code ?? 'an error';
    throw new CosignerError(
      'STORAGE_FAILED',
      `start at login could not be ${enabled ? 'set' : 'removed'}: ${file} (${reason})`,
      { file },
      { cause: e },
    );
  }
}
