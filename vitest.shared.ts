import { fileURLToPath } from 'node:url'
import type { ViteUserConfig } from 'vitest/config'

/**
 * Shared vitest settings: workspace packages resolve to their TypeScript sources, so library
 * tests never need a build first (see docs/stack-notes: a Vite alias, not resolve conditions).
 */
export const shared: ViteUserConfig = {
  resolve: {
    alias: [
      // Subpath exports first: the package pattern below matches bare names only.
      {
        find: /^@aegis\/proxy\/internal$/,
        replacement: fileURLToPath(new URL('./packages/proxy/src/internal.ts', import.meta.url)),
      },
      {
        find: /^@aegis\/(access|vault|webhooks)\/pg$/,
        replacement: fileURLToPath(new URL('./packages/$1/src/pg.ts', import.meta.url)),
      },
      {
        find: /^@aegis\/config\/webhook-events$/,
        replacement: fileURLToPath(new URL('./packages/config/src/webhook-events.ts', import.meta.url)),
      },
      {
        find: /^@aegis\/pg\/testing$/,
        replacement: fileURLToPath(new URL('./packages/pg/src/testing.ts', import.meta.url)),
      },
      {
        find: /^@aegis\/(access|config|vault|guard|ledger|pg|policy|proxy|mcp|identity|inspect|redis-rate-limit|telemetry|webhooks)$/,
        replacement: fileURLToPath(new URL('./packages/$1/src/index.ts', import.meta.url)),
      },
    ],
  },
  test: {
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
}
