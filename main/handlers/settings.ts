import type { Settings } from '../../preload/contract.ts';
import type { Handlers } from './kit.ts';

export interface SettingsDeps {
  settings: { get(): Settings; update(patch: Partial<Settings>): Promise<Settings> };
}

export function settingsHandlers({ settings }: SettingsDeps): Handlers<'settings.get' | 'settings.set'> {
  return {
    'settings.get': async () => settings.get(),
    'settings.set': async (patch) => settings.update(patch),
  };
}
