import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { connectBridge } from './bridge/index.ts';
import { Clock } from './clock.svelte.ts';
import { Connection } from './connection.svelte.ts';
import { Router } from './router.svelte.ts';
import { AppStores } from './stores/app-stores.svelte.ts';
import { Theme } from './theme.svelte.ts';

const target = document.getElementById('app');
if (!target) throw new Error('missing #app');

const connection = new Connection();
let stores: AppStores | undefined;
const bridge = connectBridge((state) => {
  // Events sent while the link was down are lost: ask for everything again.
  if (connection.update(state)) void stores?.reload();
});
stores = new AppStores(bridge);
const theme = new Theme();
theme.apply();

mount(App, { target, props: { context: { bridge, stores, router: new Router(), clock: new Clock(), theme }, connection } });
