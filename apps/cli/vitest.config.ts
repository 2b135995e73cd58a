import { defineConfig } from 'vitest/config'

// No @aegis/source alias here: CLI tests run the built bin/run.js, which loads built packages.
export default defineConfig({
  test: { disableConsoleIntercept: true, testTimeout: 60_000, hookTimeout: 60_000 },
})
