import { createHash } from 'node:crypto'
import { migrate, openPool, schemaStatus } from '@aegis/pg'
import { type ScratchDatabase, scratchDatabase } from '@aegis/pg/testing'
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pgTestUrl } from '../../../test-support/pg-url.js'
import { ACCESS_PG_MIGRATIONS, AccessError, type Actor, BOOTSTRAP, type UserStore } from '../src/index.js'
import { openPgUserStore } from '../src/pg.js'
import { userStoreContract } from './contract/user-store.js'

const adminUrl = pgTestUrl('@aegis/access PostgreSQL user store')

describe.skipIf(adminUrl === undefined)('PostgreSQL', () => {
  let scratch: ScratchDatabase
  let pool: pg.Pool

  beforeAll(async () => {
    scratch = await scratchDatabase(adminUrl as string)
    pool = openPool({ url: scratch.url, max: 4 })
    await migrate(pool, [ACCESS_PG_MIGRATIONS])
  })
  afterAll(async () => {
    await pool?.end()
    await scratch?.drop()
  })

  /** A store over empty tables (the tests of one file share one scratch database). */
  async function fresh(): Promise<UserStore> {
    await pool.query('TRUNCATE aegis.users, aegis.access_meta RESTART IDENTITY')
    return openPgUserStore(pool)
  }

  userStoreContract('PostgreSQL', fresh)

  it('migrates to the current schema', async () => {
    expect(await schemaStatus(pool, ACCESS_PG_MIGRATIONS)).toEqual({
      set: 'access',
      state: 'current',
      applied: 3,
      known: 3,
    })
  })

  it("a token's last use is written without a change notification for the other gates", async () => {
    const store = await fresh()
    const { token } = await store.addUser(BOOTSTRAP, { name: 'root', role: 'admin' })
    const version = async () =>
      (
        await pool.query<{ v: string }>(
          `SELECT version::text AS v FROM aegis.aegis_versions WHERE topic = 'users'`,
        )
      ).rows[0]?.v
    const before = await version()
    await store.resolveActor(token)
    expect((await store.listUsers())[0]?.lastUsedAt).not.toBeNull()
    expect(await version()).toBe(before)
    await store.close()
  })

  it('keeps only the SHA-256 of a token: no table holds the token in any encoding', async () => {
    const store = await fresh()
    const { token } = await store.addUser(BOOTSTRAP, { name: 'root', role: 'admin' })
    const secret = token.slice(20)
    const tables = await pool.query<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'aegis'`,
    )
    let dump = ''
    for (const { name } of tables.rows) {
      const rows = await pool.query(`SELECT t::text AS row FROM aegis."${name}" t`)
      dump += rows.rows.map((r) => r.row).join('\n')
    }
    const forms = [token, secret, Buffer.from(token).toString('base64'), Buffer.from(token).toString('hex')]
    for (const form of forms) expect(dump).not.toContain(form)
    const { rows } = await pool.query<{ token_hash: Buffer }>('SELECT token_hash FROM aegis.users')
    expect(rows[0]?.token_hash).toEqual(createHash('sha256').update(token).digest())
  })

  it('a user change bumps the users topic at commit; a refused one does not', async () => {
    const store = await fresh()
    const version = async () =>
      Number(
        (await pool.query(`SELECT version FROM aegis.aegis_versions WHERE topic = 'users'`)).rows[0]
          ?.version ?? 0,
      )
    const v0 = await version()
    const { token } = await store.addUser(BOOTSTRAP, { name: 'root', role: 'admin' })
    const v1 = await version()
    expect(v1).toBeGreaterThan(v0)
    const root = await store.resolveActor(token)
    await expect(store.removeUser(root, { name: 'root' })).rejects.toThrow('last admin')
    expect(await version()).toBe(v1)
  })

  describe('two stores on one database (two gates or CLIs)', () => {
    const code = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (e: unknown) => (e instanceof AccessError ? e.code : Promise.reject(e)),
      )

    async function twoAdmins(): Promise<{
      a: Actor
      b: Actor
      stores: [UserStore, UserStore]
      pools: pg.Pool[]
    }> {
      const setup = await fresh()
      const a = await setup.resolveActor((await setup.addUser(BOOTSTRAP, { name: 'a', role: 'admin' })).token)
      const b = await setup.resolveActor((await setup.addUser(a, { name: 'b', role: 'admin' })).token)
      const pools = [0, 1].map(() => openPool({ url: scratch.url, max: 2 }))
      return {
        a,
        b,
        pools,
        stores: [openPgUserStore(pools[0] as pg.Pool), openPgUserStore(pools[1] as pg.Pool)],
      }
    }

    it('two admins demoting themselves at once: one passes, one is the last admin (many rounds)', async () => {
      const { a, b, stores, pools } = await twoAdmins()
      try {
        for (let round = 0; round < 20; round++) {
          const results = await Promise.all([
            code(stores[0].setRole(a, { name: 'a', role: 'operator' })),
            code(stores[1].setRole(b, { name: 'b', role: 'operator' })),
          ])
          const admins = (await stores[0].listUsers()).filter((u) => u.role === 'admin')
          expect(admins, `round ${round}: ${results.join(' / ')}`).toHaveLength(1)
          expect(results.sort(), `round ${round}`).toEqual(['last_admin', 'ok'])
          const left = admins[0]?.name === 'a' ? a : b
          await stores[0].setRole(left, { name: 'a', role: 'admin' })
          await stores[0].setRole(left, { name: 'b', role: 'admin' })
        }
      } finally {
        await Promise.all(pools.map((p) => p.end()))
      }
    })

    it('two admins removing each other at once: one passes, the other finds itself gone (many rounds)', async () => {
      const { a, b, stores, pools } = await twoAdmins()
      try {
        let [actorA, actorB] = [a, b]
        for (let round = 0; round < 20; round++) {
          const results = await Promise.all([
            code(stores[0].removeUser(actorA, { name: 'b' })),
            code(stores[1].removeUser(actorB, { name: 'a' })),
          ])
          const users = await stores[0].listUsers()
          expect(users, `round ${round}: ${results.join(' / ')}`).toHaveLength(1)
          expect(users[0]?.role).toBe('admin')
          // The loser was removed before its own change ran: its token no longer names anyone.
          expect(results.sort(), `round ${round}`).toEqual(['invalid_token', 'ok'])
          const survivor = users[0]?.name === 'a' ? actorA : actorB
          const gone = survivor === actorA ? 'b' : 'a'
          const again = await stores[0].resolveActor(
            (await stores[0].addUser(survivor, { name: gone, role: 'admin' })).token,
          )
          if (gone === 'a') actorA = again
          else actorB = again
        }
      } finally {
        await Promise.all(pools.map((p) => p.end()))
      }
    })

    it('two first users at once: exactly one ends bootstrap, the other is refused', async () => {
      await fresh()
      const pools = [0, 1].map(() => openPool({ url: scratch.url, max: 2 }))
      try {
        const stores = pools.map((p) => openPgUserStore(p))
        const results = await Promise.all(
          stores.map((s, i) => code(s.addUser(BOOTSTRAP, { name: `first${i}`, role: 'admin' }))),
        )
        expect(results.sort()).toEqual(['authentication_required', 'ok'])
        expect(await stores[0]?.listUsers()).toHaveLength(1)
      } finally {
        await Promise.all(pools.map((p) => p.end()))
      }
    })
  })
})
