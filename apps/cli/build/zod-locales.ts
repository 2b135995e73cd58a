/**
 * esbuild plugin: zod 4 exports every one of its ~50 message locales (`z.locales`, `core.locales`)
 * from one index module, so a bundle that imports `z` carries them all: 358 KB of the 1.1 MB chunk
 * that every command loads (issue 18, CLI start). The CLI uses zod's default English messages only,
 * set by zod itself from `locales/en.js`. This plugin gives the bundle an index with that one
 * locale: `z.locales.en` stays, the other languages are gone. The libraries are not touched; they
 * keep zod as it ships.
 */
import { dirname } from 'node:path'
import type { Plugin } from 'esbuild'

const NAMESPACE = 'aegis-zod-locales'

export function zodEnglishOnly(): Plugin {
  return {
    name: NAMESPACE,
    setup(build) {
      build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, async (args) => {
        if (!/[\\/]zod[\\/]v4[\\/](?:classic|core)[\\/]/.test(args.importer)) return undefined
        const resolved = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir })
        if (resolved.errors.length > 0) return { errors: resolved.errors }
        return { path: resolved.path, namespace: NAMESPACE }
      })
      build.onLoad({ filter: /.*/, namespace: NAMESPACE }, (args) => ({
        contents: 'export { default as en } from "./en.js"\n',
        resolveDir: dirname(args.path),
        loader: 'js',
      }))
    },
  }
}
