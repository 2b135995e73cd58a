import { defineConfig } from 'tsup'

export default defineConfig({
  entry: ['src/index.ts', 'src/commands/**/*.ts', 'src/hooks/*.ts'],
  format: ['esm'],
  splitting: true,
  dts: false,
  clean: true,
  sourcemap: true,
  target: 'node20',
})
