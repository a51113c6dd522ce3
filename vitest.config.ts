import { defineConfig } from 'vitest/config';

// One runner for every layer. Crypto vectors and protocol tests are CPU-bound on a 2-core machine,
// network and browser tests hold real sockets: a generous timeout, no retries (a flaky test is a bug).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['verbose', './test/support/summary-reporter.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    retry: 0,
  },
});
