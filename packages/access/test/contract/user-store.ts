import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AccessError, type Actor, BOOTSTRAP, checkUserAccess, type UserStore } from '../../src/index.js'

/** Written out, not imported: the test fails when the refusal loses its meaning or way out. */
const INVALID_TOKEN_LINE =
  "Invalid user token: AEGIS_USER_TOKEN is no user's token (mistyped, or regenerated or removed since); an admin can issue a new one: aegis user regenerate-token --name <you>"

/** What a refused call rejected with: the code and the one line, or 'resolved' when it was not refused. */
async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string } | 'resolved'> {
  try {
    await promise
  } catch (error) {
    if (error instanceof AccessError) return { code: error.code, message: error.message }
    throw error
  }
  return 'resolved'
}

/**
 * One suite, every engine: `open` gives a store over an EMPTY user table (a new SQLite file, a
 * truncated PostgreSQL schema). The expectations are the same words for both, so the two engines
 * cannot drift apart in what they refuse or how they say it.
 */
export function userStoreContract(name: string, open: () => Promise<UserStore>): void {
  describe(`UserStore contract: ${name}`, () => {
    let store: UserStore
    beforeEach(async () => {
      store = await open()
    })
    afterEach(async () => {
      await store.close()
    })

    /** The first admin's actor, as a command would resolve it from the token. */
    async function root(): Promise<{ actor: Actor; token: string }> {
      const { token } = await store.addUser(BOOTSTRAP, { name: 'root', role: 'admin' })
      return { actor: await store.resolveActor(token), token }
    }

    it('bootstrap: nobody yet, every caller is the bootstrap actor and the token is not read', async () => {
      expect(await store.bootstrapCompletedAt()).toBeNull()
      expect(await store.resolveActor(undefined)).toBe(BOOTSTRAP)
      expect(await store.resolveActor('aegis_user_not-even-checked')).toBe(BOOTSTRAP)
      expect(await store.listUsers()).toEqual([])
    })

    it.each(['operator', 'viewer'])(
      'refuses a first user who is not an admin (%s); bootstrap goes on',
      async (role) => {
        expect(await refusal(store.addUser(BOOTSTRAP, { name: 'x', role }))).toEqual({
          code: 'first_user_must_be_admin',
          message: `The first user must be an admin: "x" would be ${role}, and nobody could then manage users`,
        })
        expect(await store.bootstrapCompletedAt()).toBeNull()
        expect(await store.listUsers()).toEqual([])
      },
    )

    it('the first admin ends bootstrap for good, in the same transaction', async () => {
      const before = Date.now()
      const { token, actor } = await root()
      expect(token).toMatch(/^aegis_user_/)
      expect(actor).toMatchObject({ kind: 'user', name: 'root', role: 'admin' })
      const at = (await store.bootstrapCompletedAt())?.getTime() ?? 0
      expect(at).toBeGreaterThanOrEqual(before - 1000)
      expect(at).toBeLessThanOrEqual(Date.now() + 1000)
      expect(await refusal(store.addUser(BOOTSTRAP, { name: 'late', role: 'admin' }))).toEqual({
        code: 'authentication_required',
        message: 'Authentication required: the first user was added while this command ran',
      })
      expect(await refusal(store.resolveActor(undefined))).toEqual({
        code: 'authentication_required',
        message: 'Authentication required',
      })
    })

    it('a token whose delivery fails is never issued: no first admin (bootstrap goes on), no new token', async () => {
      const lost = new Error('ENOSPC: the token could not be printed')
      let seen: unknown
      const failing = (issued: unknown) => {
        seen = issued
        throw lost
      }
      await expect(store.addUser(BOOTSTRAP, { name: 'root', role: 'admin' }, failing)).rejects.toBe(lost)
      expect(seen).toMatchObject({ name: 'root', role: 'admin' })
      expect(await store.bootstrapCompletedAt()).toBeNull()
      expect(await store.listUsers()).toEqual([])
      expect(await store.resolveActor(undefined)).toBe(BOOTSTRAP)

      // Delivered: the token handed over is the one returned, and it works.
      let delivered: unknown
      const issued = await store.addUser(BOOTSTRAP, { name: 'root', role: 'admin' }, async (t) => {
        delivered = t
      })
      expect(delivered).toEqual(issued)
      const actor = await store.resolveActor(issued.token)
      expect(actor).toMatchObject({ name: 'root', role: 'admin' })

      const rejecting = async () => {
        throw lost
      }
      await expect(store.addUser(actor, { name: 'alice', role: 'viewer' }, rejecting)).rejects.toBe(lost)
      expect((await store.listUsers()).map((u) => u.name)).toEqual(['root'])
      await expect(store.regenerateToken(actor, { name: 'root' }, failing)).rejects.toBe(lost)
      expect(await store.resolveActor(issued.token)).toMatchObject({ name: 'root' })
      const unissued = (seen as { token: string }).token
      expect(unissued).not.toBe(issued.token)
      expect(await refusal(store.resolveActor(unissued))).toEqual({
        code: 'invalid_token',
        message: INVALID_TOKEN_LINE,
      })
    })

    it('tokens: a typo, a malformed one and a regenerated or removed user’s are invalid', async () => {
      const { token, actor } = await root()
      const invalid = { code: 'invalid_token', message: INVALID_TOKEN_LINE }
      const typo = token.slice(0, 30) + (token[30] === 'a' ? 'b' : 'a') + token.slice(31)
      expect(await refusal(store.resolveActor(typo))).toEqual(invalid)
      expect(await refusal(store.resolveActor('aegis_user_garbage'))).toEqual(invalid)
      expect(await refusal(store.resolveActor(''))).toMatchObject({ code: 'authentication_required' })
      const alice = await store.addUser(actor, { name: 'alice', role: 'operator' })
      expect(alice).toEqual({ name: 'alice', role: 'operator', token: expect.stringMatching(/^aegis_user_/) })
      const again = await store.regenerateToken(actor, { name: 'alice' })
      expect(again).toEqual({ name: 'alice', role: 'operator', token: expect.any(String) })
      expect(again.token).not.toBe(alice.token)
      expect(await refusal(store.resolveActor(alice.token))).toEqual(invalid)
      expect(await store.resolveActor(again.token)).toMatchObject({ name: 'alice', role: 'operator' })
      await store.removeUser(actor, { name: 'alice' })
      expect(await refusal(store.resolveActor(again.token))).toEqual(invalid)
    })

    it('lists users by name with times and never token material', async () => {
      const { actor, token } = await root()
      const viewer = await store.addUser(actor, { name: 'ann', role: 'viewer' })
      const list = await store.listUsers()
      expect(list).toEqual([
        {
          name: 'ann',
          role: 'viewer',
          createdAt: expect.any(String),
          updatedAt: expect.any(String),
          lastUsedAt: null,
        },
        {
          name: 'root',
          role: 'admin',
          createdAt: expect.any(String),
          updatedAt: expect.any(String),
          lastUsedAt: expect.any(String),
        },
      ])
      for (const user of list) expect(new Date(user.createdAt).toISOString()).toBe(user.createdAt)
      const text = JSON.stringify(list)
      for (const t of [token, viewer.token]) expect(text).not.toContain(t.slice(11, 19))
    })

    it("records a token's last use: never until presented, once a minute at most, never again after regenerate", async () => {
      const { actor } = await root()
      const alice = await store.addUser(actor, { name: 'alice', role: 'operator' })
      const lastUse = async (name: string) =>
        (await store.listUsers()).find((u) => u.name === name)?.lastUsedAt
      expect(await lastUse('alice')).toBeNull()
      const before = Date.now()
      await store.resolveActor(alice.token)
      const first = await lastUse('alice')
      expect(Date.parse(first ?? '')).toBeGreaterThanOrEqual(before)
      expect(Date.parse(first ?? '')).toBeLessThanOrEqual(Date.now())
      // Within the minute: nothing written, the first use stands.
      await new Promise((r) => setTimeout(r, 5))
      await store.resolveActor(alice.token)
      expect(await lastUse('alice')).toBe(first)
      // A refused token records nothing; a new token has not been used yet.
      await refusal(store.resolveActor(`${alice.token.slice(0, -1)}x`))
      await store.regenerateToken(actor, { name: 'alice' })
      expect(await lastUse('alice')).toBeNull()
    })

    it('refuses bad names, bad roles, duplicates and unknown users with the same words', async () => {
      const { actor } = await root()
      const cases: [() => Promise<unknown>, string, string][] = [
        [
          () => store.addUser(actor, { name: 'root', role: 'viewer' }),
          'user_exists',
          'User "root" already exists',
        ],
        [
          () => store.addUser(actor, { name: 'has space', role: 'viewer' }),
          'invalid_input',
          'Invalid user name: use 1 to 64 letters, digits, ".", "_", "@" or "-", starting with a letter or digit',
        ],
        [
          () => store.addUser(actor, { name: 'x', role: 'superuser' }),
          'invalid_input',
          'Invalid role: use admin, operator or viewer',
        ],
        [
          () => store.setRole(actor, { name: 'ghost', role: 'viewer' }),
          'user_not_found',
          'No user named "ghost" (aegis user list)',
        ],
        [
          () => store.regenerateToken(actor, { name: 'ghost' }),
          'user_not_found',
          'No user named "ghost" (aegis user list)',
        ],
        [
          () => store.removeUser(actor, { name: 'ghost' }),
          'user_not_found',
          'No user named "ghost" (aegis user list)',
        ],
      ]
      for (const [call, code, message] of cases) expect(await refusal(call())).toEqual({ code, message })
      expect((await store.listUsers()).map((u) => u.name)).toEqual(['root'])
    })

    it('re-checks the actor inside the write: a role without user:write, a demoted or removed user', async () => {
      const { actor } = await root()
      const op = await store.resolveActor(
        (await store.addUser(actor, { name: 'op', role: 'operator' })).token,
      )
      expect(await refusal(store.addUser(op, { name: 'x', role: 'viewer' }))).toEqual({
        code: 'forbidden',
        message: 'operator may not user:write',
      })
      const second = await store.resolveActor(
        (await store.addUser(actor, { name: 'second', role: 'admin' })).token,
      )
      // `second` still says admin in memory; the store holds viewer now.
      await store.setRole(actor, { name: 'second', role: 'viewer' })
      expect(await refusal(store.addUser(second, { name: 'x', role: 'viewer' }))).toEqual({
        code: 'forbidden',
        message: 'viewer may not user:write',
      })
      await store.removeUser(actor, { name: 'second' })
      expect(await refusal(store.removeUser(second, { name: 'op' }))).toEqual({
        code: 'invalid_token',
        message: INVALID_TOKEN_LINE,
      })
      expect((await store.listUsers()).map((u) => u.name)).toEqual(['op', 'root'])
    })

    it('the last admin can be neither demoted nor removed; with a second admin either works', async () => {
      const { actor } = await root()
      expect(await refusal(store.setRole(actor, { name: 'root', role: 'operator' }))).toEqual({
        code: 'last_admin',
        message: 'Cannot demote "root": it is the last admin (make another user admin first)',
      })
      expect(await refusal(store.removeUser(actor, { name: 'root' }))).toEqual({
        code: 'last_admin',
        message: 'Cannot remove "root": it is the last admin (make another user admin first)',
      })
      await store.addUser(actor, { name: 'other', role: 'admin' })
      expect(await store.setRole(actor, { name: 'other', role: 'viewer' })).toMatchObject({
        name: 'other',
        role: 'viewer',
      })
      expect(await refusal(store.removeUser(actor, { name: 'root' }))).toMatchObject({ code: 'last_admin' })
      await store.setRole(actor, { name: 'other', role: 'admin' })
      await store.removeUser(actor, { name: 'root' })
      expect((await store.listUsers()).map((u) => [u.name, u.role])).toEqual([['other', 'admin']])
    })

    it('checkUserAccess answers a host channel as checkAccess does', async () => {
      const check = (token: string | undefined) =>
        checkUserAccess(store, { token, permission: 'vault:manage' })
      expect(await check(undefined)).toEqual({ ok: true, actor: BOOTSTRAP })
      const { actor, token } = await root()
      const viewer = (await store.addUser(actor, { name: 'eve', role: 'viewer' })).token
      const required = { ok: false, status: 401, code: 'authentication_required' }
      const message = 'Authentication required (set AEGIS_USER_TOKEN)'
      expect(await check(undefined)).toEqual({ ...required, message })
      expect(await check('   ')).toEqual({ ...required, message })
      const invalid = { ok: false, status: 401, code: 'invalid_token', message: INVALID_TOKEN_LINE }
      expect(await check('aegis_user_nope')).toEqual(invalid)
      expect(await check(`${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`)).toEqual(invalid)
      expect(await check(viewer)).toEqual({
        ok: false,
        status: 403,
        code: 'forbidden',
        message: 'viewer may not vault:manage',
      })
      expect(await check(` ${token} `)).toEqual({
        ok: true,
        actor: expect.objectContaining({ name: 'root' }),
      })
    })

    it('setRole returns the changed user with a later updatedAt', async () => {
      const { actor } = await root()
      await store.addUser(actor, { name: 'v', role: 'viewer' })
      const [before] = (await store.listUsers()).filter((u) => u.name === 'v')
      await new Promise((resolve) => setTimeout(resolve, 5))
      const after = await store.setRole(actor, { name: 'v', role: 'operator' })
      expect(after).toMatchObject({ name: 'v', role: 'operator', createdAt: before?.createdAt })
      expect(Date.parse(after.updatedAt)).toBeGreaterThan(Date.parse(before?.updatedAt ?? ''))
    })
  })
}
