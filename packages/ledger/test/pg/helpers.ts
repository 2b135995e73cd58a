import { migrate, openPool } from '@aegis/pg'
import { type ScratchDatabase, scratchDatabase } from '@aegis/pg/testing'
import type pg from 'pg'
import { afterAll, beforeAll } from 'vitest'
import { LEDGER_PG_MIGRATIONS } from '../../src/index.js'

/**
 * A migrated scratch database for this test file (dropped after it) and a pool on it. `empty()`
 * empties the ledger and restarts its ids at 1, for the next test.
 */
export function useLedgerDatabase(adminUrl: string | undefined): {
  readonly pool: pg.Pool
  readonly url: string
  empty(): Promise<void>
} {
  let scratch: ScratchDatabase | undefined
  let pool: pg.Pool | undefined
  beforeAll(async () => {
    if (adminUrl === undefined) return
    scratch = await scratchDatabase(adminUrl)
    pool = openPool({ url: scratch.url, max: 6, applicationName: 'aegis-ledger-tests' })
    await migrate(pool, [LEDGER_PG_MIGRATIONS])
  })
  afterAll(async () => {
    await pool?.end()
    await scratch?.drop()
  })
  return {
    get pool() {
      if (pool === undefined) throw new Error('no database (AEGIS_PG_URL unset?)')
      return pool
    },
    get url() {
      if (scratch === undefined) throw new Error('no database (AEGIS_PG_URL unset?)')
      return scratch.url
    },
    async empty() {
      await this.pool.query('TRUNCATE aegis.ledger_entries RESTART IDENTITY')
    },
  }
}
