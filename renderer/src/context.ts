import { createContext } from 'svelte';
import type { CosignerBridge } from '../../preload/contract.ts';
import type { Clock } from './clock.svelte.ts';
import type { Router } from './router.svelte.ts';
import type { AppStores } from './stores/app-stores.svelte.ts';
import type { Theme } from './theme.svelte.ts';

export interface AppContext {
  bridge: CosignerBridge;
  stores: AppStores;
  router: Router;
  clock: Clock;
  theme: Theme;
}

export const [getApp, setApp] = createContext<AppContext>();
