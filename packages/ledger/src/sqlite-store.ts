import type { Ledger } from './ledger.js'
import type { LedgerStore } from './store.js'
import type { LedgerEntry, LedgerFilter } from './types.js'

/**
 * The SQLite `Ledger` as a `LedgerStore`. Reads stay synchronous underneath (they are bounded and
 * run on the writer's connection, as before); `close()` closes the ledger.
 */
export function sqliteLedgerStore(ledger: Ledger): LedgerStore {
  return {
    engine: 'sqlite',
    append: (entry) => ledger.append(entry),
    complete: (id, outcome) => ledger.complete(id, outcome),
    system: (event, detail) => ledger.system(event, detail),
    // `async` so a LedgerError thrown by the sync call becomes a rejection, as on PostgreSQL.
    query: async (filter) => ledger.query(filter),
    entries: async (ids) => ledger.entries(ids),
    timeline: async (range) => ledger.timeline(range),
    window: async (range) => ledger.window(range),
    blockedGroups: async (range) => ledger.blockedGroups(range),
    stats: async (filter) => ledger.stats(filter),
    iterate: (filter) => iterateAsync(ledger, filter),
    get metrics() {
      return ledger.metrics
    },
    flush: () => ledger.flush(),
    close: () => ledger.close(),
  }
}

/**
 * The sync iterator (a private read-only connection) behind an async one: a `break` or a failing
 * consumer returns the sync generator too, which closes that connection.
 */
async function* iterateAsync(ledger: Ledger, filter: LedgerFilter | undefined): AsyncGenerator<LedgerEntry> {
  yield* ledger.iterate(filter)
}
