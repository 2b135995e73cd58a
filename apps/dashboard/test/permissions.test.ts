import { COMMAND_PERMISSIONS, PERMISSIONS, ROLE_PERMISSIONS, ROLES } from '@aegis/access'
import { describe, expect, it } from 'vitest'
import { ACTIONS, canOf, ROLE_CHOICES, VIEWS, viewOfPath } from '../src/lib/permissions.js'
import { resolveView } from '../src/views/Shell.js'
import { ADMIN, VIEWER } from './fixtures.js'

describe('the UI mirrors @aegis/access', () => {
  it.each(Object.entries(ACTIONS))('%s needs what its CLI command needs', (_id, action) => {
    expect(COMMAND_PERMISSIONS[action.command as keyof typeof COMMAND_PERMISSIONS]).toBe(action.permission)
  })

  it('every view permission exists', () => {
    const known = PERMISSIONS.map((p) => p.permission as string)
    for (const v of VIEWS) expect(known).toContain(v.permission)
  })

  it('the role choices are the roles', () => {
    expect([...ROLE_CHOICES].sort()).toEqual([...ROLES].sort())
  })

  it('a viewer (by the real role table) sees no Users view and no write action', () => {
    const can = canOf([...ROLE_PERMISSIONS.viewer])
    expect(can('user:read')).toBe(false)
    for (const action of Object.values(ACTIONS)) expect(can(action.permission)).toBe(false)
  })
})

describe('routing by path and permission', () => {
  it.each([
    ['/', 'overview'],
    ['/feed', 'feed'],
    ['/feed/', 'feed'],
    ['/credentials', 'credentials'],
    ['/agents', 'agents'],
    ['/users', 'users'],
    ['/blocked', 'blocked'],
  ])('%s → %s', (path, id) => {
    expect(viewOfPath(path)?.id).toBe(id)
  })

  it.each(['/nope', '/users/../admin', '/login/x', '/FEED'])('%s is no view', (path) => {
    expect(viewOfPath(path)).toBeNull()
    expect(resolveView(path, ADMIN)).toBe('forbidden')
  })

  it('a view whose permission is not held is forbidden', () => {
    expect(resolveView('/users', VIEWER)).toBe('forbidden')
    expect(resolveView('/users', ADMIN)).toMatchObject({ id: 'users' })
    expect(resolveView('/feed', { ...VIEWER, permissions: ['dashboard:view'] })).toBe('forbidden')
  })
})
