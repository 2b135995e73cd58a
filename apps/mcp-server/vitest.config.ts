import { defineConfig } from 'vitest/config'

// Tests run the built dist/main.js (stdio) as a real child process: no source aliases here.
export default defineConfig({ test: { testTimeout: 60_000, hookTimeout: 60_000 } })
