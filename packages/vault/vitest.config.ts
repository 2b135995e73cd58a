import { fileURLToPath } from 'node:url'
import { mergeConfig } from 'vitest/config'
import { shared } from '../../vitest.shared.ts'

// @aegis/pg (and its testing subpath) resolve to their sources like the other workspace packages,
// so these tests need no build of packages/pg first.
const pgSource = (file: string) => fileURLToPath(new URL(`../pg/src/${file}`, import.meta.url))

export default mergeConfig(shared, {
  resolve: {
    alias: [
      { find: /^@aegis\/pg\/testing$/, replacement: pgSource('testing.ts') },
      { find: /^@aegis\/pg$/, replacement: pgSource('index.ts') },
    ],
  },
})
