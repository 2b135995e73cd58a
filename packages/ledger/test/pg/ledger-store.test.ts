import { beforeAll, describe } from 'vitest'
import { pgTestUrl } from '../../../../test-support/pg-url.js'
import { openPgLedger } from '../../src/index.js'
import { ledgerStoreContract } from '../contract/ledger-store.js'
import { useLedgerDatabase } from './helpers.js'

const adminUrl = pgTestUrl('@aegis/ledger PostgreSQL LedgerStore contract')

describe.skipIf(adminUrl === undefined)('PostgreSQL', () => {
  const db = useLedgerDatabase(adminUrl)
  // Production databases usually sort text by a locale (en_US: `alpha` < `B` < `Zeta`), the test
  // server by bytes (C.UTF-8). Give the grouped columns a locale collation, as such a database
  // would by default, so the contract sees whether the ledger's ordering depends on it.
  beforeAll(async () => {
    for (const column of ['service', 'agent', 'code']) {
      await db.pool.query(
        `ALTER TABLE aegis.ledger_entries ALTER COLUMN ${column} TYPE text COLLATE "en-US-x-icu"`,
      )
    }
  })
  ledgerStoreContract('postgres', async (options) => {
    await db.empty()
    return openPgLedger({
      pool: db.pool,
      extensions: (options?.extensions ?? []).map((extension) => ({
        decisions: extension.decisions,
        written: async (_tx, entries) => extension.written(entries),
      })),
    })
  })
})
