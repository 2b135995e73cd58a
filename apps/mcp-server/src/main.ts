// biome-ignore lint/correctness/useImportExtensions: a JSON module keeps its own extension
import packageJson from '../package.json' with { type: 'json' }
import { parseCliArgs, USAGE, UsageError } from './args.js'
import { serve } from './serve.js'

// SIGUSR1 would open Node's inspector (127.0.0.1:9229, no authentication) in this process, which
// holds the master key and every decrypted secret: any process of the same user can send it, the
// agent of the MCP host included. A listener keeps the inspector shut (`node --inspect` still opens it).
process.on('SIGUSR1', () => {})

/** Error names whose messages are written for users (no stack needed). */
const USER_FACING = new Set([
  'StartupError',
  'ConfigError',
  'VaultError',
  'LedgerError',
  'McpStartError',
  'PolicyError',
  'AccessError',
])

function errorLine(error: unknown): string {
  const message = (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' ').trim()
  return `aegis-mcp-server: ${message || 'unexpected failure'}`
}

async function main(): Promise<number> {
  let args: ReturnType<typeof parseCliArgs>
  try {
    args = parseCliArgs(process.argv.slice(2))
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    process.stderr.write(`aegis-mcp-server: ${error.message}\n\n${USAGE}\n`)
    return 2
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  if (args.version) {
    process.stdout.write(`${packageJson.version}\n`)
    return 0
  }
  try {
    await serve({
      args,
      env: process.env,
      cwd: process.cwd(),
      version: packageJson.version,
      status: (line) => process.stderr.write(`${line}\n`),
    })
    return 0
  } catch (error) {
    process.stderr.write(`${errorLine(error)}\n`)
    const debug = /(^|[\s,])(aegis[^\s,]*|\*)/.test(process.env.DEBUG ?? '')
    if (debug && error instanceof Error) process.stderr.write(`${error.stack ?? ''}\n`)
    else if (!(error instanceof Error && USER_FACING.has(error.name))) {
      process.stderr.write('(set DEBUG=aegis* for details)\n')
    }
    return 1
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${errorLine(error)}\n`)
    process.exit(1)
  },
)
