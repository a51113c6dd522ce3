import type { StartAtLogin } from '../../preload/contract.ts';
import { CosignerError } from '../errors.ts';
import type { Handlers } from './kit.ts';

/** Why the headless mode has no login item: its service manager starts it. */
export const HEADLESS_NO_LOGIN_ITEM = 'The headless mode is started by its service manager (systemd, launchd, a container), not at login.';

/** The desktop app's login item (main/desktop/desktop-shell.ts, which keeps the tray's check box in step). */
export interface StartAtLoginPort {
  get(): boolean;
  set(enabled: boolean): void;
}

export interface StartAtLoginDeps {
  /** Absent in the headless mode. */
  port: StartAtLoginPort | undefined;
  unavailable: string;
}

export function startAtLoginHandlers({ port, unavailable }: StartAtLoginDeps): Handlers<'startAtLogin.get' | 'startAtLogin.set'> {
  const status = (): StartAtLogin => (port ? { available: true, enabled: port.get() } : { available: false, why: unavailable });
  return {
    'startAtLogin.get': async () => status(),
    'startAtLogin.set': async ({ enabled }) => {
      if (!port) throw new CosignerError('START_AT_LOGIN_UNAVAILABLE', unavailable);
      port.set(enabled);
      return status();
    },
  };
}
