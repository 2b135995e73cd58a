import { openLedger, sqliteLedgerStore } from '../src/index.js'
import { ledgerStoreContract } from './contract/ledger-store.js'
import { tempLedgerFile } from './helpers.js'

ledgerStoreContract('sqlite', async (options) =>
  sqliteLedgerStore(
    openLedger({
      file: tempLedgerFile(),
      extensions: (options?.extensions ?? []).map((extension) => ({
        decisions: extension.decisions,
        attach: () => {},
        written: (entries) => extension.written(entries),
      })),
    }),
  ),
)
