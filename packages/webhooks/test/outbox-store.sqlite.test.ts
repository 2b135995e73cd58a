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
    close: () => h.cleanup(),
  }
  return harnessOf
})
