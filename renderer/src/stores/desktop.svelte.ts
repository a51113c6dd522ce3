import type { CosignerBridge, StartAtLogin, UpdateState } from '../../../preload/contract.ts';
import { Synced } from './synced.svelte.ts';

/**
 * The desktop app's update check (its `updates` event) and start at login. In the headless mode
 * both answer, with why, that they are not there: the screen says so instead of hiding them.
 */
export class DesktopStore {
  readonly #bridge: CosignerBridge;
  readonly updates: Synced<UpdateState>;
  startAtLogin: StartAtLogin | undefined = $state.raw(undefined);
  error: unknown = $state.raw(null);

  constructor(bridge: CosignerBridge) {
    this.#bridge = bridge;
    this.updates = new Synced(
      (set) => bridge.subscribe('updates', set),
      () => bridge.call('updates.status', {}),
    );
  }

  start(): () => void {
    const off = this.updates.start();
    void this.loadStartAtLogin();
    return off;
  }

  async reload(): Promise<void> {
    await Promise.all([this.updates.reload(), this.loadStartAtLogin()]);
  }

  /** Each step answers with the state it reached; its events carry the steps in between. */
  async check(): Promise<void> {
    this.updates.set(await this.#bridge.call('updates.check', {}));
  }

  async download(): Promise<void> {
    this.updates.set(await this.#bridge.call('updates.download', {}));
  }

  /** Quits into the installer: the answer may never come. */
  async install(): Promise<void> {
    await this.#bridge.call('updates.install', {});
  }

  async setStartAtLogin(enabled: boolean): Promise<void> {
    this.startAtLogin = await this.#bridge.call('startAtLogin.set', { enabled });
  }

  /** Asked again when Settings opens: the tray's check box may have changed it meanwhile. */
  async loadStartAtLogin(): Promise<void> {
    try {
      this.startAtLogin = await this.#bridge.call('startAtLogin.get', {});
      this.error = null;
    } catch (error) {
      this.error = error;
    }
  }
}
