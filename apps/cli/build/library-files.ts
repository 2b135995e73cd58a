/**
 * esbuild plugin: keeps `import.meta.url` meaning "where this library file is installed" after the
 * library's code is inlined into the CLI bundle. The libraries find files beside their code that
 * the bundle does not contain: drizzle migration folders (`../drizzle`), the ledger writer thread's
 * program (`writer-worker.js`), the outbox module that thread imports (`outbox.js`), and packages they
 * resolve at run time (`better-sqlite3` for the checkpointer, `tldts` on first use). Inlined, such
 * code would sit in a CLI chunk and look beside the chunk. So in each inlined `packages/<pkg>/dist`
 * file, `import.meta.url` becomes that same file's URL inside the installed `@aegis/<pkg>` (found
 * with `import.meta.resolve`, from the CLI, at run time): the library's files are used where the
 * library ships them, and nothing is copied. Each such library must therefore be a dependency of
 * the CLI (checked here, at build time).
 */
import { readFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import type { Plugin } from 'esbuild'

interface Manifest {
  name: string
  exports?: Record<string, unknown>
}

export function libraryFiles(dependencies: Record<string, string>): Plugin {
  return {
    name: 'aegis-library-files',
    setup(build) {
      build.onLoad({ filter: /[\\/]packages[\\/][^\\/]+[\\/]dist[\\/][^\\/]+\.js$/ }, async (args) => {
        const source = await readFile(args.path, 'utf8')
        if (!source.includes('import.meta.url')) return undefined
        const root = dirname(dirname(args.path))
        const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as Manifest
        if (!(manifest.name in dependencies)) {
          throw new Error(`${manifest.name} uses import.meta.url but is not a dependency of @aegis/cli`)
        }
        // The root export is dist/index.js for every library; this file sits beside it in dist/.
        const main = exportedFile(manifest)
        if (main !== './dist/index.js')
          throw new Error(`${manifest.name}: root export ${main}, expected ./dist/index.js`)
        const url = `new URL(${JSON.stringify(`./${basename(args.path)}`)}, import.meta.resolve(${JSON.stringify(manifest.name)})).href`
        return {
          contents: source.replaceAll('import.meta.url', `(${url})`),
          loader: 'js',
          resolveDir: dirname(args.path),
        }
      })
    },
  }
}

function exportedFile(manifest: Manifest): unknown {
  const root = manifest.exports?.['.']
  return typeof root === 'object' && root !== null ? (root as Record<string, unknown>).default : root
}
