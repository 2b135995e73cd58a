/**
 * Snippets for MCP hosts' config files. They hold where Aegis finds its config, never a secret:
 * values that are secret are VS Code secret-storage inputs, or placeholders the user fills from a
 * secret store (the server refuses to start while a `<…>` placeholder is left).
 */

export const MCP_HOSTS = ['claude', 'cursor', 'vscode'] as const
export type McpHost = (typeof MCP_HOSTS)[number]

import type { McpLaunch } from './mcp-launch.js'

export const MASTER_KEY_PLACEHOLDER = '<paste master key>'
export const AGENT_TOKEN_PLACEHOLDER = '<paste agent token>'
export const USER_TOKEN_PLACEHOLDER = '<paste user token>'

/**
 * An `AEGIS_*` variable that shaped the configuration this command resolved. The host starts the
 * server without the user's shell environment, so each one goes into the snippet: its resolved
 * value (absolute paths), or for a secret (`value: null`) a placeholder / VS Code input.
 */
export interface EnvOverride {
  variable: string
  value: string | null
}

export interface HostConfigInput {
  /** Absolute config file, or null when there is none (then `dataDir` locates the vault). */
  configFile: string | null
  dataDir: string
  /** Variables besides AEGIS_MASTER_KEY that override the config here (AEGIS_VAULT, AEGIS_PG_URL, …). */
  overrides: readonly EnvOverride[]
  /** False when the config file itself holds `vault.master_key`. */
  needsMasterKey: boolean
  /** True once RBAC is on for the data directory: `mcp serve` then needs a user token (gate:start). */
  needsUserToken: boolean
  /** How the host starts the server (see mcp-launch.ts). */
  launch: McpLaunch
}

/** Where each host reads its MCP servers from. */
export const HOST_FILES: Record<McpHost, string> = {
  claude:
    'claude_desktop_config.json (macOS: ~/Library/Application Support/Claude/, Windows: %APPDATA%\\Claude\\)',
  cursor: '.cursor/mcp.json in your project, or ~/.cursor/mcp.json for every project',
  vscode: '.vscode/mcp.json in your workspace (or the user mcp.json: "MCP: Open User Configuration")',
}

/** `AEGIS_PG_URL` → `aegis-pg-url`: the VS Code input that asks for a secret override. */
function inputId(variable: string): string {
  return variable.toLowerCase().replaceAll('_', '-')
}

/** `<paste AEGIS_PG_URL>`: the placeholder of a secret override (the server refuses to start on it). */
export function overridePlaceholder(variable: string): string {
  return `<paste ${variable}>`
}

function secretOverrides(input: HostConfigInput): string[] {
  return input.overrides.filter((o) => o.value === null).map((o) => o.variable)
}

function locationEnv(input: HostConfigInput, secret: (variable: string) => string): Record<string, string> {
  const env: Record<string, string> =
    input.configFile === null ? { AEGIS_DATA_DIR: input.dataDir } : { AEGIS_CONFIG: input.configFile }
  for (const { variable, value } of input.overrides) env[variable] = value ?? secret(variable)
  return env
}

/** The JSON document to paste into the host's MCP config. */
export function hostConfig(host: McpHost, input: HostConfigInput): Record<string, unknown> {
  const launch = { command: input.launch.command, args: input.launch.args }
  if (host === 'vscode') {
    const inputs = [
      ...(input.needsMasterKey
        ? [{ type: 'promptString', id: 'aegis-master-key', description: 'Aegis master key', password: true }]
        : []),
      { type: 'promptString', id: 'aegis-agent-token', description: 'Aegis agent token', password: true },
      ...(input.needsUserToken
        ? [
            {
              type: 'promptString',
              id: 'aegis-user-token',
              description: 'Aegis user token (operator or admin)',
              password: true,
            },
          ]
        : []),
      ...secretOverrides(input).map((variable) => ({
        type: 'promptString',
        id: inputId(variable),
        description: variable,
        password: true,
      })),
    ]
    const env = {
      ...locationEnv(input, (variable) => `\${input:${inputId(variable)}}`),
      ...(input.needsMasterKey ? { AEGIS_MASTER_KEY: `\${input:aegis-master-key}` } : {}),
      AEGIS_AGENT_TOKEN: `\${input:aegis-agent-token}`,
      ...(input.needsUserToken ? { AEGIS_USER_TOKEN: `\${input:aegis-user-token}` } : {}),
    }
    return { inputs, servers: { aegis: { type: 'stdio', ...launch, env } } }
  }
  const env = {
    ...locationEnv(input, overridePlaceholder),
    ...(input.needsMasterKey ? { AEGIS_MASTER_KEY: MASTER_KEY_PLACEHOLDER } : {}),
    AEGIS_AGENT_TOKEN: AGENT_TOKEN_PLACEHOLDER,
    ...(input.needsUserToken ? { AEGIS_USER_TOKEN: USER_TOKEN_PLACEHOLDER } : {}),
  }
  return { mcpServers: { aegis: { ...launch, env } } }
}

/** What the user must still do, for stderr. */
export function hostConfigNotes(host: McpHost, input: HostConfigInput): string[] {
  const notes = [`Paste this into ${HOST_FILES[host]}.`]
  if (host === 'vscode') {
    const asked = [
      ...(input.needsMasterKey ? ['the master key'] : []),
      'the agent token',
      ...(input.needsUserToken ? ['a user token'] : []),
      ...secretOverrides(input),
    ]
    const list = asked.length > 1 ? `${asked.slice(0, -1).join(', ')} and ${asked.at(-1)}` : asked.join('')
    notes.push(
      `VS Code asks for ${list} on first start and keeps them in its secret storage; nothing secret is in this file.`,
    )
  } else {
    const values = [
      ...(input.needsMasterKey ? ['AEGIS_MASTER_KEY'] : []),
      'AEGIS_AGENT_TOKEN',
      ...(input.needsUserToken ? ['AEGIS_USER_TOKEN'] : []),
      ...secretOverrides(input),
    ].join(', ')
    notes.push(
      `Replace the "<paste …>" placeholders for ${values} with the values from your secret store; this output holds no secret, and the server will not start while a placeholder is left.`,
    )
  }
  if (!input.needsMasterKey) notes.push('The master key is read from vault.master_key in the config file.')
  if (input.overrides.length > 0) {
    notes.push(
      `The host does not have this shell's environment, so the snippet carries what overrode the config here: ${input.overrides.map((o) => o.variable).join(', ')}.`,
    )
  }
  notes.push(
    'Get an agent token with `aegis agent add --name <name>` and grant it credentials with `aegis agent grant`.',
  )
  if (input.needsUserToken) {
    notes.push(
      'RBAC is on here: the server starts only with the token of a user allowed gate:start (operator or admin), AEGIS_USER_TOKEN; the agent never sees it.',
    )
  }
  if (input.configFile === null) {
    notes.push(
      'No config file was found: the snippet names the data directory (AEGIS_DATA_DIR) instead of AEGIS_CONFIG.',
    )
  }
  return notes
}
