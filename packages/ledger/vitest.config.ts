import { fileURLToPath } from 'node:url'
import { mergeConfig } from 'vitest/config'
import { shared } from '../../vitest.shared.ts'

const pg = (file: string): string => fileURLToPath(new URL(`../pg/src/${file}`, import.meta.url))

// @aegis/pg from its sources too (the shared aliases predate it), so these tests need no build.
export default mergeConfig(shared, {
  resolve: {
    alias: [
      { find: /^@aegis\/pg\/testing$/, replacement: pg('testing.ts') },
      { find: /^@aegis\/pg$/, replacement: pg('index.ts') },
    ],
  },
})
