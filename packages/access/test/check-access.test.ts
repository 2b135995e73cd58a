import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { accessFile, addUser, BOOTSTRAP, checkAccess } from '../src/index.js'

/** Written out, not imported: the test fails when the refusal loses its meaning or way out. */
const INVALID_TOKEN_LINE =
  "Invalid user token: AEGIS_USER_TOKEN is no user's token (mistyped, or regenerated or removed since); an admin can issue a new one: aegis user regenerate-token --name <you>"

// checkAccess is what channels other than the CLI's command table use (the gate's admin socket,
// aegis-mcp-server): one answer with an HTTP-like status, never an exception for a refusal.
let dir: string
let file: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'aegis-check-'))
  file = accessFile(dir)
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

describe('checkAccess', () => {
  it('allows everything during bootstrap and creates nothing', () => {
    expect(checkAccess({ file, token: undefined, permission: 'vault:manage' })).toEqual({
      ok: true,
      actor: BOOTSTRAP,
    })
    expect(readdirSync(dir)).toEqual([])
  })

  it('refuses bootstrap (403 users_lost) when the vault says RBAC was turned on, and asks only then', () => {
    let asked = 0
    const since = () => {
      asked++
      return '2026-05-06T07:08:09.000Z'
    }
    const check = checkAccess({ file, token: undefined, permission: 'vault:manage', rbacSince: since })
    expect(check).toEqual({
      ok: false,
      status: 403,
      code: 'users_lost',
      message: `RBAC is on for ${dir} (its first user was added 2026-05-06T07:08:09.000Z), but access.db holds no user: it was deleted, emptied or replaced. Refused; restore access.db from a backup, or, holding the master key or its key shares, add a new first admin with: aegis user recover --name <name>`,
    })
    expect(
      checkAccess({ file, token: undefined, permission: 'vault:manage', rbacSince: () => null }),
    ).toEqual({
      ok: true,
      actor: BOOTSTRAP,
    })
    const admin = addUser({ file, actor: BOOTSTRAP, name: 'root', role: 'admin' }).token
    asked = 0
    expect(checkAccess({ file, token: admin, permission: 'vault:manage', rbacSince: since }).ok).toBe(true)
    expect(asked).toBe(0)
  })

  describe('once a user exists', () => {
    let admin: string
    let viewer: string
    beforeEach(() => {
      admin = addUser({ file, actor: BOOTSTRAP, name: 'root', role: 'admin' }).token
      const actor = checkAccess({ file, token: admin, permission: 'user:write' })
      if (!actor.ok) throw new Error(actor.message)
      viewer = addUser({ file, actor: actor.actor, name: 'eve', role: 'viewer' }).token
    })

    it.each([
      [
        'no token',
        undefined,
        401,
        'authentication_required',
        'Authentication required (set AEGIS_USER_TOKEN)',
      ],
      [
        'a blank token',
        '   ',
        401,
        'authentication_required',
        'Authentication required (set AEGIS_USER_TOKEN)',
      ],
      ['a made-up token', 'aegis_user_nope', 401, 'invalid_token', INVALID_TOKEN_LINE],
      ['a token with one character changed', 'flip', 401, 'invalid_token', INVALID_TOKEN_LINE],
      ['a viewer', 'viewer', 403, 'forbidden', 'viewer may not vault:manage'],
    ])('refuses %s', (_, given, status, code, message) => {
      const token =
        given === 'viewer'
          ? viewer
          : given === 'flip'
            ? `${admin.slice(0, -1)}${admin.endsWith('A') ? 'B' : 'A'}`
            : given
      expect(checkAccess({ file, token, permission: 'vault:manage' })).toEqual({
        ok: false,
        status,
        code,
        message,
      })
    })

    it('allows an admin, naming who it is', () => {
      const check = checkAccess({ file, token: admin, permission: 'vault:manage' })
      expect(check.ok && check.actor.kind === 'user' && check.actor.name).toBe('root')
    })
  })
})
