import { LEDGER_PG_MIGRATIONS, type LedgerStore, openPgLedger } from '@aegis/ledger'
import { migrate, openPool } from '@aegis/pg'
import { type ScratchDatabase, scratchDatabase } from '@aegis/pg/testing'
import type pg from 'pg'
import { type OutboxOptions, WEBHOOKS_PG_MIGRATIONS } from '../src/index.js'
import { PgOutbox } from '../src/pg.js'
import { Clock } from './helpers.js'

/** A scratch database with the ledger's and the outbox's tables, for one test file. */
export async function pgDatabase(adminUrl: string): Promise<{ scratch: ScratchDatabase; pool: pg.Pool }> {
  const scratch = await scratchDatabase(adminUrl)
  const pool = openPool({ url: scratch.url, max: 4 })
  await migrate(pool, [LEDGER_PG_MIGRATIONS, WEBHOOKS_PG_MIGRATIONS])
  return { scratch, pool }
}

export async function emptyOutbox(pool: pg.Pool): Promise<void> {
  await pool.query(`TRUNCATE aegis.webhook_deliveries, aegis.webhook_events, aegis.webhook_endpoints,
    aegis.webhook_expiry_notices, aegis.ledger_entries RESTART IDENTITY`)
}

/** One gate's share of the database: its own pool, a PgOutbox and the PgLedger it extends. */
export interface PgGate {
  pool: pg.Pool
  outbox: PgOutbox
  ledger: LedgerStore
  close(): Promise<void>
}

export function pgGate(url: string, options: OutboxOptions = {}): PgGate {
  const pool = openPool({ url, max: 4 })
  const outbox = new PgOutbox(pool, options)
  const ledger = openPgLedger({ pool, extensions: [outbox] })
  return {
    pool,
    outbox,
    ledger,
    async close() {
      await ledger.close()
      await pool.end()
    },
  }
}

export { Clock }
