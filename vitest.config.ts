import { defineConfig } from 'vitest/config';

// One runner for every layer. Crypto vectors and protocol tests are CPU-bound on a 2-core machine,
// network and browser tests hold real sockets: a generous timeout, no retries (a flaky test is a bug).
// The renderer's stores need the Svelte compiler, so they run as their own project.
export default defineConfig({
  test: {
    reporters: ['verbose', './test/support/summary-reporter.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    retry: 0,
    projects: [
      {
        extends: true,
        test: { name: 'main', include: ['test/**/*.test.ts'], exclude: ['test/unit/renderer/**'] },
      },
      'renderer/vitest.config.ts',
    ],
  },
});
