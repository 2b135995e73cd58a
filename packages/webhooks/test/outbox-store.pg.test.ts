import type { ScratchDatabase } from '@aegis/pg/testing'
import type pg from 'pg'
import { afterAll, beforeAll, describe } from 'vitest'
import { pgTestUrl } from '../../../test-support/pg-url.js'
import { type OutboxHarness, outboxStoreContract } from './contract/outbox-store.js'
import { Clock } from './helpers.js'
import { emptyOutbox, pgDatabase, pgGate } from './pg-helpers.js'

const adminUrl = pgTestUrl('@aegis/webhooks PostgreSQL outbox contract')

describe.skipIf(adminUrl === undefined)('PostgreSQL', () => {
  let scratch: ScratchDatabase
  let pool: pg.Pool
  beforeAll(async () => {
    ;({ scratch, pool } = await pgDatabase(adminUrl as string))
  })
  afterAll(async () => {
    await pool?.end()
    await scratch?.drop()
  })

  outboxStoreContract('PostgreSQL', async (options) => {
    await emptyOutbox(pool)
    const clock = new Clock()
    let gate = pgGate(scratch.url, { now: clock.now, ...options })
    const harnessOf: OutboxHarness = {
      store: gate.outbox,
      clock,
      async emit(entries) {
        await Promise.all(entries.map((entry) => gate.ledger.append(entry)))
      },
      async reopen(extra) {
        await gate.close()
        gate = pgGate(scratch.url, { now: clock.now, ...options, ...extra })
        harnessOf.store = gate.outbox
      },
      async eventRows() {
        const { rows } = await pool.query('SELECT count(*) AS n FROM aegis.webhook_events')
        return Number(rows[0]?.n)
      },
      close: () => gate.close(),
    }
    return harnessOf
  })
})
