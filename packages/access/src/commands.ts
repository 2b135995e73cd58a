import type { Permission } from './permissions.js'

/**
 * The permission each `aegis` command needs, by oclif command id (`vault:add` is `aegis vault add`).
 * `null` marks a command that is open to everyone even once RBAC is on (help only: it reads
 * nothing). A command missing here is refused (see `commandPermission`), and the CLI's tests fail
 * on any command without a row, so a new command cannot default to allowed.
 */
export const COMMAND_PERMISSIONS = {
  help: null,
  // Creates a workspace: in a fresh folder that is bootstrap (no users); in a data directory whose
  // RBAC is on, it would create a vault there.
  init: 'vault:manage',
  doctor: 'doctor:run',
  // Diagnostics: the resolved configuration with every secret masked.
  'config:show': 'doctor:run',
  'config:validate': 'doctor:run',
  // Changes the shared PostgreSQL schema every gate runs against: admin only, like creating a vault.
  'storage:migrate': 'vault:manage',
  // Where each package's schema stands: diagnostics, no secret in it.
  'storage:status': 'doctor:run',
  'vault:list': 'vault:read',
  'vault:add': 'vault:write',
  'vault:update': 'vault:write',
  'vault:rotate': 'vault:write',
  'vault:reseal': 'vault:manage',
  'vault:remove': 'vault:write',
  'vault:create': 'vault:manage',
  'vault:vaults': 'vault:manage',
  'vault:destroy': 'vault:manage',
  // Master-key custody is admin-only: vault:manage is held by admin alone.
  'vault:split': 'vault:manage',
  'vault:seal': 'vault:manage',
  'vault:unseal': 'vault:manage',
  'agent:list': 'agent:read',
  'agent:add': 'agent:write',
  'agent:remove': 'agent:write',
  'agent:regenerate': 'agent:write',
  'agent:grant': 'agent:write',
  'agent:revoke': 'agent:write',
  'agent:set-rate-limit': 'agent:write',
  'ledger:show': 'ledger:read',
  'ledger:stats': 'ledger:read',
  'ledger:export': 'ledger:export',
  // Validating and dry-running policy files changes nothing.
  'policy:list': 'policy:read',
  'policy:validate': 'policy:read',
  'policy:test': 'policy:read',
  gate: 'gate:start',
  // Also needs gate:start unless --no-gate: it starts the gate too (checked by the command).
  dashboard: 'dashboard:view',
  'mcp:serve': 'gate:start',
  // Prints how an MCP host starts `mcp serve` (no secret in it): for those who may start it.
  'mcp:config': 'gate:start',
  // Runs an agent against the gate, with the vault's agents and services read to set it up.
  run: 'gate:start',
  'user:list': 'user:read',
  'user:add': 'user:write',
  'user:role': 'user:write',
  'user:regenerate-token': 'user:write',
  'user:remove': 'user:write',
  // Adds a first admin to a lost access.db: the master key proves who runs it (checked by the command).
  'user:recover': 'user:write',
  'webhook:list': 'webhook:read',
  'webhook:deliveries': 'webhook:read',
  'webhook:add': 'webhook:write',
  'webhook:remove': 'webhook:write',
  // Sends a signed request to the endpoint: an action on it, not a read.
  'webhook:test': 'webhook:write',
  // Queues credential_expiry events (once per credential and threshold).
  'webhook:check-expiry': 'webhook:write',
  'webhook:redeliver': 'webhook:write',
  // Makes an endpoint a 410 disabled active again (its secret kept).
  'webhook:enable': 'webhook:write',
} as const satisfies Readonly<Record<string, Permission | null>>

export type CommandId = keyof typeof COMMAND_PERMISSIONS

/**
 * The permission a command needs: a permission, `null` for an open command, or `undefined` for a
 * command nobody mapped (callers refuse it).
 */
export function commandPermission(commandId: string): Permission | null | undefined {
  return Object.hasOwn(COMMAND_PERMISSIONS, commandId)
    ? COMMAND_PERMISSIONS[commandId as CommandId]
    : undefined
}
