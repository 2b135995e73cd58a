import type { Permission } from '../api/types.js'

/**
 * Which permission shows what. The server checks every call with `authorize` (a hidden button is
 * convenience, not protection); these rows mirror the routes' permissions in the contract, and
 * test/permissions.test.ts holds the write actions against @aegis/access COMMAND_PERMISSIONS.
 */
export type ViewId = 'overview' | 'feed' | 'credentials' | 'agents' | 'users' | 'blocked'

export interface ViewDef {
  id: ViewId
  path: string
  label: string
  permission: Permission
}

export const VIEWS: readonly ViewDef[] = [
  { id: 'overview', path: '/', label: 'Overview', permission: 'dashboard:view' },
  { id: 'feed', path: '/feed', label: 'Request feed', permission: 'ledger:read' },
  { id: 'credentials', path: '/credentials', label: 'Credentials', permission: 'vault:read' },
  { id: 'agents', path: '/agents', label: 'Agents', permission: 'agent:read' },
  { id: 'users', path: '/users', label: 'Users', permission: 'user:read' },
  { id: 'blocked', path: '/blocked', label: 'Blocked requests', permission: 'ledger:read' },
]

/** The write actions and the CLI command each one stands for (same permission as that command). */
export const ACTIONS = {
  removeCredential: { command: 'vault:remove', permission: 'vault:write' },
  revokeGrant: { command: 'agent:revoke', permission: 'agent:write' },
  setRateLimit: { command: 'agent:set-rate-limit', permission: 'agent:write' },
  removeAgent: { command: 'agent:remove', permission: 'agent:write' },
  setRole: { command: 'user:role', permission: 'user:write' },
  removeUser: { command: 'user:remove', permission: 'user:write' },
} as const satisfies Record<string, { command: string; permission: Permission }>

export type ActionId = keyof typeof ACTIONS

export type Can = (permission: Permission) => boolean

export function canOf(permissions: readonly Permission[]): Can {
  const held = new Set(permissions)
  return (permission) => held.has(permission)
}

export const mayDo = (can: Can, action: ActionId): boolean => can(ACTIONS[action].permission)

/** The view a path names (trailing slash ignored), or null for an unknown path. */
export function viewOfPath(path: string): ViewDef | null {
  const clean = path.length > 1 ? path.replace(/\/+$/, '') : path
  return VIEWS.find((v) => v.path === clean) ?? null
}

/** The roles a user can be given (mirrors @aegis/access ROLES; test/permissions.test.ts checks it). */
export const ROLE_CHOICES = ['admin', 'operator', 'viewer'] as const
