import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pgTestUrl } from '../../../test-support/pg-url.js'
import {
  assertSchemaCurrent,
  CORE_MIGRATIONS,
  migrate,
  openPool,
  SchemaError,
  schemaStatus,
} from '../src/index.js'
import { type ScratchDatabase, scratchDatabase } from '../src/testing.js'
import { WIDGETS, WIDGETS_V2 } from './helpers.js'

const adminUrl = pgTestUrl('@aegis/pg migrations')

describe.skipIf(adminUrl === undefined)('migrations on a real PostgreSQL', () => {
  let scratch: ScratchDatabase
  let pool: pg.Pool

  beforeAll(async () => {
    scratch = await scratchDatabase(adminUrl as string)
    pool = openPool({ url: scratch.url, max: 4 })
  })
  afterAll(async () => {
    await pool?.end()
    await scratch?.drop()
  })

  it('an empty database is refused with the command that fixes it', async () => {
    expect(await schemaStatus(pool, WIDGETS)).toEqual({
      set: 'widgets',
      state: 'empty',
      applied: 0,
      known: 1,
    })
    const error = await assertSchemaCurrent(pool, [WIDGETS]).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SchemaError)
    expect((error as SchemaError).code).toBe('schema_empty')
    expect((error as Error).message).toContain('aegis storage migrate')
  })

  it('three processes migrating at once apply each migration exactly once', async () => {
    const pools = [0, 1, 2].map(() => openPool({ url: scratch.url, max: 2 }))
    try {
      const results = await Promise.all(pools.map((p) => migrate(p, [WIDGETS])))
      for (const statuses of results) {
        expect(statuses.map((s) => [s.set, s.state, s.applied])).toEqual([
          ['core', 'current', 2],
          ['widgets', 'current', 1],
        ])
      }
    } finally {
      await Promise.all(pools.map((p) => p.end()))
    }
    const rows = await pool.query('SELECT count(*)::int AS n FROM aegis.__migrations_widgets')
    expect(rows.rows[0].n).toBe(1)
    await expect(assertSchemaCurrent(pool, [WIDGETS])).resolves.toBeUndefined()
  })

  it('a build with a new migration sees the database behind, and migrate brings it level', async () => {
    expect((await schemaStatus(pool, WIDGETS_V2)).state).toBe('behind')
    const error = (await assertSchemaCurrent(pool, [WIDGETS_V2]).catch((e: unknown) => e)) as SchemaError
    expect(error.code).toBe('schema_behind')
    expect(error.message).toContain('widgets 1/2')
    await migrate(pool, [WIDGETS_V2])
    expect(await schemaStatus(pool, WIDGETS_V2)).toEqual({
      set: 'widgets',
      state: 'current',
      applied: 2,
      known: 2,
    })
    await pool.query("INSERT INTO aegis.widgets (name, colour) VALUES ('w', 'red')")
  })

  it('an older build refuses a database a newer one migrated, and migrate changes nothing', async () => {
    // WIDGETS (one migration) against a database WIDGETS_V2 migrated: the old build is behind.
    expect((await schemaStatus(pool, WIDGETS)).state).toBe('ahead')
    const error = (await assertSchemaCurrent(pool, [WIDGETS]).catch((e: unknown) => e)) as SchemaError
    expect(error.code).toBe('schema_ahead')
    expect(error.message).toMatch(/newer than this aegis/)
    const refused = (await migrate(pool, [WIDGETS]).catch((e: unknown) => e)) as SchemaError
    expect(refused.code).toBe('schema_ahead')
    const rows = await pool.query('SELECT count(*)::int AS n FROM aegis.__migrations_widgets')
    expect(rows.rows[0].n).toBe(2)
  })

  it('the core set is always included and reported first', async () => {
    const statuses = await migrate(pool, [CORE_MIGRATIONS, WIDGETS_V2])
    expect(statuses.map((s) => s.set)).toEqual(['core', 'widgets'])
  })
})

describe.skipIf(adminUrl === undefined)('openPool on a real PostgreSQL', () => {
  it('migrate waits for another host holding the migration lock longer than the statement timeout', async () => {
    const scratch = await scratchDatabase(adminUrl as string)
    const pool = openPool({ url: scratch.url, max: 2, statementTimeoutMs: 200 })
    const other = await pool.connect()
    try {
      // Another host's migration, holding the lock for a while.
      await other.query('SELECT pg_advisory_lock($1)', [0x4145_4749_53])
      setTimeout(() => void other.query('SELECT pg_advisory_unlock($1)', [0x4145_4749_53]), 2000)
      const statuses = await migrate(pool, [WIDGETS])
      expect(statuses.map((s) => s.state)).toEqual(['current', 'current'])
      // The pool's timeouts are back for everything else.
      await expect(pool.query('SELECT pg_sleep(2)')).rejects.toThrow(/statement timeout/)
    } finally {
      other.release()
      await pool.end()
      await scratch.drop()
    }
  }, 20_000)

  it('a statement stuck behind a lock fails after statementTimeoutMs instead of hanging', async () => {
    const scratch = await scratchDatabase(adminUrl as string)
    const pool = openPool({ url: scratch.url, max: 2, statementTimeoutMs: 200 })
    const holder = await pool.connect()
    try {
      await pool.query('CREATE TABLE t (x int)')
      await holder.query('BEGIN')
      await holder.query('LOCK TABLE t IN ACCESS EXCLUSIVE MODE')
      const started = Date.now()
      await expect(pool.query('INSERT INTO t VALUES (1)')).rejects.toThrow(/statement timeout/)
      expect(Date.now() - started).toBeLessThan(5000)
      await holder.query('ROLLBACK')
    } finally {
      holder.release()
      await pool.end()
      await scratch.drop()
    }
  })
})

describe.skipIf(adminUrl === undefined)('openPool when connections die', () => {
  it('a checked-out client whose connection is terminated does not end the process; the pool recovers', async () => {
    const scratch = await scratchDatabase(adminUrl as string)
    const errors: Error[] = []
    const pool = openPool({ url: scratch.url, max: 2, onError: (e) => errors.push(e) })
    try {
      const client = await pool.connect()
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
      // Killed while checked out and between queries (as inside a transaction awaiting the app):
      // without a listener on the client, pg's 'error' event would be an uncaught exception.
      await pool.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid])
      for (let i = 0; i < 100 && errors.length === 0; i++) await new Promise((r) => setTimeout(r, 10))
      expect(errors.length).toBeGreaterThan(0)
      await expect(client.query('SELECT 1')).rejects.toThrow()
      client.release(true)
      const again = await pool.query<{ one: number }>('SELECT 1 AS one')
      expect(again.rows[0]?.one).toBe(1)
    } finally {
      await pool.end()
      await scratch.drop()
    }
  })
})
