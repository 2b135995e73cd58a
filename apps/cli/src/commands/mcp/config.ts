import { type AegisConfig, envVariables } from '@aegis/config'
import { Args } from '@oclif/core'
import { AegisCommand } from '../../base-command.js'
import {
  type EnvOverride,
  hostConfig,
  hostConfigNotes,
  MCP_HOSTS,
  type McpHost,
} from '../../lib/mcp-host-config.js'
import { mcpLaunch } from '../../lib/mcp-launch.js'

export default class McpConfig extends AegisCommand<typeof McpConfig> {
  static override summary =
    'Print the MCP server entry for Claude Desktop, Cursor or VS Code (JSON, no secrets)'
  static override description =
    "The snippet starts the server with `npx -y @aegis/mcp-server` when this CLI was installed from a registry, and otherwise with this CLI itself (`<node> <absolute path>/bin/run.js mcp serve`); it names this project's config file (AEGIS_CONFIG) and every AEGIS_* variable that overrides it in your environment (AEGIS_VAULT, AEGIS_DATA_DIR, AEGIS_POLICIES_DIR, …), since the host does not start the server from your shell. It never holds the master key, an agent token or a user token (named once RBAC is on), nor a database or Redis URL: VS Code prompts for them, and for Claude and Cursor you fill the placeholders from your secret store. What to do next is printed on stderr."

  static override examples = [
    '<%= config.bin %> mcp config claude',
    '<%= config.bin %> mcp config cursor --json',
    '<%= config.bin %> mcp config vscode > .vscode/mcp.json',
  ]

  static override args = {
    host: Args.string({ description: 'The MCP host', required: true, options: [...MCP_HOSTS] }),
  }

  async run(): Promise<Record<string, unknown>> {
    const config = this.loadAegisConfig()
    const host = this.args.host as McpHost
    const fromEnv = process.env.AEGIS_MASTER_KEY
    const input = {
      configFile: config.source.file,
      dataDir: config.vault.data_dir,
      overrides: envOverrides(config, process.env),
      needsMasterKey: !(config.vault.master_key !== undefined && (fromEnv === undefined || fromEnv === '')),
      needsUserToken: this.actor?.kind === 'user',
      launch: mcpLaunch(this.config.root),
    }
    const snippet = hostConfig(host, input)
    this.log(JSON.stringify(snippet, null, 2))
    for (const note of hostConfigNotes(host, input)) process.stderr.write(`${note}\n`)
    return snippet
  }
}

/**
 * Every AEGIS_* variable (besides the master key, placed on its own) that overrode the config in
 * this environment, with the value the config resolved (absolute paths), or null for a secret.
 * Without them the server the host starts would read another data directory, vault, database or
 * policy folder than the one this command was run against.
 */
function envOverrides(config: AegisConfig, env: NodeJS.ProcessEnv): EnvOverride[] {
  const overrides: EnvOverride[] = []
  for (const spec of envVariables) {
    if (spec.variable === 'AEGIS_MASTER_KEY') continue
    const raw = env[spec.variable]
    if (raw === undefined || raw === '') continue
    if (spec.kind.type === 'secret') {
      overrides.push({ variable: spec.variable, value: null })
      continue
    }
    let value: unknown = config
    for (const part of spec.key) value = (value as Record<string, unknown> | undefined)?.[part]
    overrides.push({ variable: spec.variable, value: value === undefined ? raw : String(value) })
  }
  return overrides
}
