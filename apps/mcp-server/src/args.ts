import { parseArgs } from 'node:util'

/** What `aegis-mcp-server` accepts on its command line. Secrets never come from here. */
export interface CliArgs {
  transport?: 'stdio' | 'http'
  port?: number
  config?: string
  help: boolean
  version: boolean
}

export const USAGE = `Usage: aegis-mcp-server [--transport stdio|http] [--port N] [--config FILE]

Aegis MCP server: credential-isolated API calls for MCP hosts (Claude Desktop, Cursor, VS Code).

Options:
  --transport stdio|http  Transport (default: mcp.transport from the config, else stdio)
  --port N                Port for --transport http (default: mcp.port, else 3300)
  --config FILE           Config file (default: $AEGIS_CONFIG, else ./aegis.config.yaml)
  -h, --help              Show this help
  -v, --version           Show the version

Environment:
  AEGIS_CONFIG        Config file (absolute path recommended: hosts start servers in any folder)
  AEGIS_MASTER_KEY    Master key of the vault (or vault.master_key in a 0600 config file)
  AEGIS_AGENT_TOKEN   This client's agent token (stdio); HTTP clients send "Authorization: Bearer"
  AEGIS_USER_TOKEN    Once RBAC is on (aegis user add): a user allowed gate:start (operator, admin)
  AEGIS_PG_URL        PostgreSQL shared with the gates (storage.postgres.url): vault, users, ledger
  AEGIS_DATA_DIR, AEGIS_VAULT, AEGIS_LOG_LEVEL  as for the aegis CLI

Logs go to stderr; in stdio mode stdout carries only the MCP protocol.`

/** Thrown for a command line that cannot be understood (exit status 2). */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

export function parseCliArgs(argv: readonly string[]): CliArgs {
  let values: Record<string, string | boolean | undefined>
  try {
    ;({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        transport: { type: 'string' },
        port: { type: 'string' },
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    }))
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error))
  }
  const transport = values.transport
  if (transport !== undefined && transport !== 'stdio' && transport !== 'http') {
    throw new UsageError(`--transport must be stdio or http (got "${String(transport)}")`)
  }
  const portText = values.port
  let port: number | undefined
  if (typeof portText === 'string') {
    port = Number(portText)
    if (!/^\d{1,5}$/.test(portText) || port > 65535)
      throw new UsageError(`--port must be 0-65535 (got "${portText}")`)
  }
  return {
    transport,
    port,
    config: typeof values.config === 'string' ? values.config : undefined,
    help: values.help === true,
    version: values.version === true,
  }
}
