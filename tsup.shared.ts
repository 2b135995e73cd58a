import type { Options } from 'tsup'

/** Build settings every library shares: one ESM entry, declarations, source maps, Node 20. */
export const library: Options = {
  entry: ['src/index.ts'],
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
}
