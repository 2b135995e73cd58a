import { configDefaults, defineConfig } from 'vitest/config'

// No @aegis/source alias here: CLI tests run the built bin/run.js, which loads built packages.
export default defineConfig({
  test: {
    disableConsoleIntercept: true,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'cli',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/dashboard-e2e/**'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        // Real Chromium against `aegis dashboard` (one per file, on a copy of the template project the
        // global setup makes). After the other CLI tests and one file at a time: the feed's latency
        // is asserted in milliseconds, so the e2e files do not compete for the CPU.
        extends: true,
        test: {
          name: 'dashboard-e2e',
          include: ['test/dashboard-e2e/*.test.ts'],
          globalSetup: ['test/dashboard-e2e/global-setup.ts'],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
})
