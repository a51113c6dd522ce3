import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The renderer's stores are `.svelte.ts` modules: their runes ($state, $derived) must be compiled
// by Svelte, for the browser (client) runtime, where reactivity lives. The tests run in Node with
// no DOM: the stores touch none.
export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  plugins: [
    svelte({
      configFile: false,
      compilerOptions: { runes: true },
      dynamicCompileOptions: () => ({ generate: 'client' }),
    }),
  ],
  resolve: { conditions: ['browser'] },
  ssr: { resolve: { conditions: ['browser'], externalConditions: ['browser'] } },
  test: {
    name: 'renderer',
    include: ['test/unit/renderer/**/*.test.ts'],
    environment: 'node',
    reporters: ['verbose', './test/support/summary-reporter.ts'],
  },
});
