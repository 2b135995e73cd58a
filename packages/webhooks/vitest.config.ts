import { fileURLToPath } from 'node:url'
import { mergeConfig } from 'vitest/config'
import { shared } from '../../vitest.shared.ts'

// @aegis/pg from its sources too (and its test-only subpath), as vitest.shared does for the others.
export default mergeConfig(shared, {
  resolve: {
    alias: [
      {
        find: /^@aegis\/pg\/testing$/,
        replacement: fileURLToPath(new URL('../pg/src/testing.ts', import.meta.url)),
      },
      { find: /^@aegis\/pg$/, replacement: fileURLToPath(new URL('../pg/src/index.ts', import.meta.url)) },
    ],
  },
})
