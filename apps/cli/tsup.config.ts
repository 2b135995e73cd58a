import { readFileSync } from 'node:fs'
import { defineConfig } from 'tsup'
import { libraryFiles } from './build/library-files.ts'

const manifest = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as {
  dependencies: Record<string, string>
}

/**
 * The CLI is bundled: a command imports a handful of chunks instead of hundreds of module files
 * (Node's ESM loader pays per file: `aegis vault list` loaded ~490 files). The workspace libraries
 * and the pure-JS packages they use are inlined; code splitting gives commands shared chunks, and
 * what only some commands need (the gate, PostgreSQL, MCP) stays in chunks behind dynamic imports.
 */
export default defineConfig({
  entry: ['src/index.ts', 'src/commands/**/*.ts', 'src/hooks/*.ts'],
  format: ['esm'],
  splitting: true,
  dts: false,
  clean: true,
  sourcemap: true,
  target: 'node20',
  platform: 'node',
  // Shared code goes to dist/chunks/, where oclif does not look for commands.
  esbuildOptions(options) {
    options.chunkNames = 'chunks/[name]-[hash]'
  },
  metafile: true,
  noExternal: [/^@aegis\/(?!redis-rate-limit$)/, 'yaml'],
  // Left as files, resolved at run time from the CLI's own dependencies:
  // - native code: better-sqlite3;
  // - oclif, which imports the command modules by path;
  // - what is loaded only when configured and has its own lazy entry: Redis (`@aegis/redis-rate-limit`),
  //   pg (PostgreSQL storage);
  // - pino, which starts its transports as worker files.
  external: [
    'better-sqlite3',
    '@oclif/core',
    '@aegis/redis-rate-limit',
    'pg',
    'pino',
    'ws',
    '@inquirer/password',
  ],
  // Inlined CommonJS packages call `require` for Node's built-ins; ESM has none, so give each chunk one.
  banner: {
    js: "import { createRequire as __aegisCreateRequire } from 'node:module';\nconst require = __aegisCreateRequire(import.meta.url);",
  },
  esbuildPlugins: [libraryFiles(manifest.dependencies)],
})
