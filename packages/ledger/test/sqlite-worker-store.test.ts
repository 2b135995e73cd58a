import { openLedger, sqliteLedgerStore } from '../src/index.js'
import { ledgerStoreContract } from './contract/ledger-store.js'
import { relayed } from './fixtures/relay-extension.js'
import { tempLedgerFile } from './helpers.js'

// The same contract with the batch transaction in a writer thread; the contract's in-process
// extensions are reached from the thread through a relay (fixtures/relay-extension.ts).
ledgerStoreContract('sqlite', async (options) => {
  const extensions = (options?.extensions ?? []).map(relayed)
  const store = sqliteLedgerStore(openLedger({ file: tempLedgerFile(), writer: 'worker', extensions }))
  return {
    ...store,
    get metrics() {
      return store.metrics
    },
    close: async () => {
      try {
        await store.close()
      } finally {
        for (const extension of extensions) extension.stop()
      }
    },
  }
})
