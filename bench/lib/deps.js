import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'

/**
 * Imports a dependency of a workspace package (e.g. undici from @aegis/proxy), so the bench
 * needs no dependencies of its own. CommonJS modules come back as their `module.exports`.
 */
export async function importFrom(pkg, name) {
  const require = createRequire(new URL(`../../packages/${pkg}/package.json`, import.meta.url))
  const mod = await import(pathToFileURL(require.resolve(name)).href)
  return mod.default ?? mod
}

/** The built entry of a workspace package, or exits with a hint to build first. */
export async function importBuilt(pkg) {
  const url = new URL(`../../packages/${pkg}/dist/index.js`, import.meta.url)
  if (!existsSync(fileURLToPath(url))) {
    process.stderr.write(
      `bench: packages/${pkg}/dist/index.js is missing. Build first: pnpm build ` +
        '(or pnpm exec turbo run build --filter=@aegis/proxy...)\n',
    )
    process.exit(2)
  }
  return import(url.href)
}

/** Prints one JSON line on stdout: how a bench child tells the runner it is ready. */
export function announce(message) {
  process.stdout.write(`${JSON.stringify(message)}\n`)
}
