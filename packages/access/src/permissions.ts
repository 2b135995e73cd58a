import type { Role } from './roles.js'

/**
 * The 16 permissions and who holds them, as data: `authorize()` reads it, and a dashboard can use
 * `PERMISSIONS` to hide what a role may not do.
 */
export const PERMISSIONS = [
  { permission: 'vault:read', description: 'list credentials', roles: ['admin', 'operator', 'viewer'] },
  { permission: 'vault:write', description: 'add, update, rotate and remove credentials', roles: ['admin'] },
  {
    permission: 'vault:manage',
    description: 'create, list and destroy vaults; split, seal and unseal the master key',
    roles: ['admin'],
  },
  { permission: 'agent:read', description: 'list agents', roles: ['admin', 'operator'] },
  {
    permission: 'agent:write',
    description: 'add, remove and regenerate agents; grants and rate limits',
    roles: ['admin', 'operator'],
  },
  { permission: 'ledger:read', description: 'view the audit ledger', roles: ['admin', 'operator', 'viewer'] },
  { permission: 'ledger:export', description: 'export the audit ledger', roles: ['admin', 'operator'] },
  { permission: 'gate:start', description: 'start the gate or the MCP server', roles: ['admin', 'operator'] },
  { permission: 'policy:read', description: 'view and test policies', roles: ['admin', 'operator'] },
  { permission: 'policy:write', description: 'manage policies', roles: ['admin'] },
  { permission: 'webhook:read', description: 'list webhooks', roles: ['admin', 'operator'] },
  { permission: 'webhook:write', description: 'add and remove webhooks', roles: ['admin'] },
  { permission: 'user:read', description: 'list users', roles: ['admin'] },
  {
    permission: 'user:write',
    description: 'add, remove and re-role users; regenerate their tokens',
    roles: ['admin'],
  },
  { permission: 'dashboard:view', description: 'open the dashboard', roles: ['admin', 'operator', 'viewer'] },
  { permission: 'doctor:run', description: 'run health checks', roles: ['admin', 'operator', 'viewer'] },
] as const satisfies readonly { permission: string; description: string; roles: readonly Role[] }[]

export type Permission = (typeof PERMISSIONS)[number]['permission']

/** Role → the permissions it holds, derived from `PERMISSIONS` (one source). */
export const ROLE_PERMISSIONS: Readonly<Record<Role, ReadonlySet<Permission>>> = {
  admin: holders('admin'),
  operator: holders('operator'),
  viewer: holders('viewer'),
}

function holders(role: Role): ReadonlySet<Permission> {
  return new Set(
    PERMISSIONS.filter((p) => (p.roles as readonly Role[]).includes(role)).map((p) => p.permission),
  )
}

const NAMES: ReadonlySet<string> = new Set(PERMISSIONS.map((p) => p.permission))

export function isPermission(value: unknown): value is Permission {
  return typeof value === 'string' && NAMES.has(value)
}
