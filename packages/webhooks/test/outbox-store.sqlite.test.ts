import Database from 'better-sqlite3'
import { sqliteOutboxStore } from '../src/index.js'
import { type OutboxHarness, outboxStoreContract } from './contract/outbox-store.js'
import { harness } from './helpers.js'

outboxStoreContract('SQLite', async (options) => {
  const h = harness(options)
  const harnessOf: OutboxHarness = {
    store: sqliteOutboxStore(h.outbox),
    clock: h.clock,
    async emit(entries) {
      await Promise.all(entries.map((entry) => h.ledger.append(entry)))
    },
    async reopen(extra) {
      await h.reopen(extra)
      harnessOf.store = sqliteOutboxStore(h.outbox)
    },
    async eventRows() {
      const db = new Database(h.file, { readonly: true })
      try {
        return Number((db.prepare('SELECT count(*) AS n FROM webhook_events').get() as { n: number }).n)
      } finally {
        db.close()
      }
    },
    close: () => h.cleanup(),
  }
  return harnessOf
})
