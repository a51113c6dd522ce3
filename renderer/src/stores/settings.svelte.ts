import type { CosignerBridge, Requests, Settings } from '../../../preload/contract.ts';
import type { ArgsOf, ResultOf } from '../../../preload/contract-kit.ts';

type AppInfo = ResultOf<Requests, 'app.info'>;

/** Settings and what the app says about itself. */
export class SettingsStore {
  readonly #bridge: CosignerBridge;
  value: Settings | undefined = $state.raw(undefined);
  info: AppInfo | undefined = $state.raw(undefined);
  error: unknown = $state.raw(null);

  constructor(bridge: CosignerBridge) {
    this.#bridge = bridge;
  }

  async reload(): Promise<void> {
    try {
      const [value, info] = await Promise.all([this.#bridge.call('settings.get', {}), this.#bridge.call('app.info', {})]);
      this.value = value;
      this.info = info;
      this.error = null;
    } catch (error) {
      this.error = error;
    }
  }

  async save(changes: ArgsOf<Requests, 'settings.set'>): Promise<Settings> {
    this.value = await this.#bridge.call('settings.set', changes);
    return this.value;
  }
}
