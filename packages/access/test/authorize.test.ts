import { describe, expect, it } from 'vitest'
import {
  type Actor,
  authorize,
  BOOTSTRAP,
  COMMAND_PERMISSIONS,
  commandPermission,
  isPermission,
  PERMISSIONS,
  type Permission,
  ROLE_PERMISSIONS,
  ROLES,
  type Role,
} from '../src/index.js'

// The brief's table, written out by hand so a change to PERMISSIONS has to change this too.
const TABLE: Record<Permission, [admin: boolean, operator: boolean, viewer: boolean]> = {
  'vault:read': [true, true, true],
  'vault:write': [true, false, false],
  'vault:manage': [true, false, false],
  'agent:read': [true, true, false],
  'agent:write': [true, true, false],
  'ledger:read': [true, true, true],
  'ledger:export': [true, true, false],
  'gate:start': [true, true, false],
  'policy:read': [true, true, false],
  'policy:write': [true, false, false],
  'webhook:read': [true, true, false],
  'webhook:write': [true, false, false],
  'user:read': [true, false, false],
  'user:write': [true, false, false],
  'dashboard:view': [true, true, true],
  'doctor:run': [true, true, true],
}

const user = (role: Role): Actor => ({ kind: 'user', id: 1, name: 'someone', role })

describe('roles and permissions', () => {
  it('are exactly three roles and the sixteen permissions of the brief', () => {
    expect(ROLES).toEqual(['admin', 'operator', 'viewer'])
    expect(PERMISSIONS.map((p) => p.permission).sort()).toEqual(Object.keys(TABLE).sort())
    expect(PERMISSIONS).toHaveLength(16)
  })

  const cases = Object.entries(TABLE).flatMap(([permission, allowed]) =>
    ROLES.map((role, i) => [role, permission as Permission, allowed[i] as boolean] as const),
  )
  it.each(cases)('%s × %s → allowed %s', (role, permission, allowed) => {
    const decision = authorize(user(role), permission)
    expect(decision.allowed).toBe(allowed)
    expect(ROLE_PERMISSIONS[role].has(permission)).toBe(allowed)
    if (!decision.allowed) expect(decision.reason).toBe(`${role} may not ${permission}`)
  })

  it('lets the bootstrap actor do everything', () => {
    for (const { permission } of PERMISSIONS) expect(authorize(BOOTSTRAP, permission).allowed).toBe(true)
  })

  it('gives a role it does not know nothing (a row edited by hand)', () => {
    const odd = { kind: 'user', id: 1, name: 'x', role: 'root' } as unknown as Actor
    expect(authorize(odd, 'doctor:run')).toEqual({ allowed: false, reason: 'root may not doctor:run' })
  })
})

describe('the command table', () => {
  it('maps every command to a permission of the table, or to null (open)', () => {
    for (const [id, permission] of Object.entries(COMMAND_PERMISSIONS)) {
      expect(permission === null || isPermission(permission), id).toBe(true)
    }
  })

  it('keeps only help open; master-key custody and vault management are admin-only', () => {
    expect(Object.entries(COMMAND_PERMISSIONS).filter(([, p]) => p === null)).toEqual([['help', null]])
    for (const id of [
      'vault:split',
      'vault:seal',
      'vault:unseal',
      'vault:create',
      'vault:vaults',
      'vault:destroy',
    ]) {
      const permission = commandPermission(id) as Permission
      expect(
        ROLES.filter((role) => authorize(user(role), permission).allowed),
        id,
      ).toEqual(['admin'])
    }
    expect(commandPermission('gate')).toBe('gate:start')
    expect(commandPermission('mcp:serve')).toBe('gate:start')
  })

  it('storage migrate (the shared schema) is admin-only; storage status is a diagnostic every role may run', () => {
    expect(
      ROLES.filter(
        (role) => authorize(user(role), commandPermission('storage:migrate') as Permission).allowed,
      ),
    ).toEqual(['admin'])
    expect(commandPermission('storage:status')).toBe(commandPermission('doctor'))
  })

  it('answers undefined for a command nobody mapped, and for inherited names', () => {
    expect(commandPermission('vault:frobnicate')).toBeUndefined()
    expect(commandPermission('toString')).toBeUndefined()
    expect(commandPermission('__proto__')).toBeUndefined()
  })
})
