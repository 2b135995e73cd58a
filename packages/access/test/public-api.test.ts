import { describe, expect, it } from 'vitest'
import * as api from '../src/index.js'

// The public surface is a promise to keep stable. access is the one place permissions are decided: roles and permissions as data, authorize(), the command table, the user store and its errors. A new export must be added here on purpose.
describe('@aegis/access public API', () => {
  it('exports exactly the documented values', () => {
    expect(Object.keys(api).sort()).toEqual(
      [
        'ACCESS_PG_MIGRATIONS',
        'AUTHENTICATION_REQUIRED',
        'INVALID_USER_TOKEN',
        'AccessError',
        'AccessStore',
        'BOOTSTRAP',
        'COMMAND_PERMISSIONS',
        'LEDGER_VIEW_ROWS',
        'PERMISSIONS',
        'ROLES',
        'ROLE_PERMISSIONS',
        'accessFile',
        'addUser',
        'authorize',
        'authorizeLedgerRead',
        'checkAccess',
        'checkUserAccess',
        'commandPermission',
        'guardBootstrap',
        'invalidUserToken',
        'isPermission',
        'isRole',
        'ledgerReadPermission',
        'ledgerViewRows',
        'lostUsersMessage',
        'resolveActor',
        'sqliteUserStore',
      ].sort(),
    )
  })

  it('keeps the PostgreSQL engine in @aegis/access/pg, so the root never loads pg', async () => {
    const pg = await import('../src/pg.js')
    expect(Object.keys(pg).sort()).toEqual(['openPgUserStore'])
  })
})
