import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  assertSchemaCurrent,
  CORE_MIGRATIONS,
  migrate,
  openPool,
  SchemaError,
  schemaStatus,
} from '../src/index.js'
import { pgTestUrl, type ScratchDatabase, scratchDatabase } from '../src/testing.js'
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
          ['core', 'current', 1],
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
