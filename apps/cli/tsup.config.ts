import { readFileSync } from 'node:fs'
import { defineConfig } from 'tsup'
import { libraryFiles } from './build/library-files.ts'
import { zodEnglishOnly } from './build/zod-locales.ts'

const manifest = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as {
  dependencies: Record<string, string>
}

/**
 * The CLI is bundled: a command imports a handful of chunks instead of hundreds of module files
 * (Node's ESM and CommonJS loaders pay per file: `aegis vault list` loaded ~490). Inlined: the
 * workspace libraries, the pure-JS packages they use, and oclif itself (bin/run.js takes `execute`
 * from dist/main.js, so oclif and the command classes share one copy of it). Code splitting gives
 * commands shared chunks; what only some commands need (the gate, PostgreSQL, MCP) sits in chunks
 * behind the dynamic imports that were there before, so it still loads only when used.
 */
export default defineConfig({
  entry: [
    'src/index.ts',
    'src/main.ts',
    'src/commands/**/*.ts',
    'src/hooks/*.ts',
    'src/lib/young-generation.ts',
    'src/lib/key-prefetch.ts',
  ],
  format: ['esm'],
  splitting: true,
  dts: false,
  clean: true,
  sourcemap: true,
  target: 'node20',
  platform: 'node',
  esbuildOptions(options) {
    // Shared code goes to dist/chunks/, where oclif does not look for commands.
    options.chunkNames = 'chunks/[name]-[hash]'
  },
  // dist/metafile-esm.json: which modules each output file holds (test/start-cost.test.ts reads it).
  metafile: true,
  noExternal: [/^@aegis\/(?!redis-rate-limit$)/, 'yaml', '@oclif/core'],
  // __dirname/__filename for inlined CommonJS (oclif): the chunk's own folder.
  shims: true,
  // Left as files, resolved at run time from the CLI's dependencies:
  // - native code: better-sqlite3;
  // - Redis support (`@aegis/redis-rate-limit`, a dynamic import taken only with rate_limit.redis.url),
  //   pg (loaded only with storage.postgres.url);
  // - pino, which starts its transports as worker files; ws and the password prompt (one command each);
  // - what oclif requires only in development or for TypeScript plugins, never in this CLI's runs
  //   (typescript alone is 9 MB): typescript, tsx, ts-node, pnpapi.
  external: [
    'better-sqlite3',
    '@aegis/redis-rate-limit',
    'pg',
    'pino',
    'ws',
    '@inquirer/password',
    'typescript',
    'tsx',
    'ts-node',
    'pnpapi',
  ],
  // Inlined CommonJS packages call `require` (Node's built-ins, oclif's command files); ESM has
  // none, so each chunk gets one.
  banner: {
    js: "import { createRequire as __aegisCreateRequire } from 'node:module';\nconst require = __aegisCreateRequire(import.meta.url);",
  },
  esbuildPlugins: [libraryFiles(manifest.dependencies), zodEnglishOnly()],
})
