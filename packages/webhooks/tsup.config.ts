import { defineConfig } from 'tsup'
import { library } from '../../tsup.shared.ts'

// The outbox is also an entry of its own: the ledger's writer thread imports it (Outbox.worker),
// and should not load the relay, the PostgreSQL outbox and their dependencies with it.
export default defineConfig({ ...library, entry: ['src/index.ts', 'src/outbox.ts'] })
