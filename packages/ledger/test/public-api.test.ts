import { describe, expect, it } from 'vitest'
import * as ledger from '../src/index.js'

// The drizzle table, migrations folder and CSV formula guard are internals (issue 13); a new
// export must be added here on purpose.
describe('@aegis/ledger public API', () => {
  it('exports exactly the documented values', () => {
    expect(Object.keys(ledger).sort()).toEqual(
      [
        'CSV_COLUMNS',
        'LEDGER_PG_MIGRATIONS',
        'Ledger',
        'LedgerError',
        'exportLedger',
        'openLedger',
        'openPgLedger',
        'PgLedger',
        'parseSince',
        'sqliteLedgerStore',
      ].sort(),
    )
  })
})
