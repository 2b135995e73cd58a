import { defineConfig } from 'tsup'
import { library } from '../../tsup.shared.ts'

// Three entries: the API; `@aegis/webhooks/pg`, the PostgreSQL engine, so that importing the package
// does not load pg and drizzle's pg-core (shared modules go to one chunk: one VaultError, one key
// cache); and the outbox alone, which the ledger's writer thread imports (Outbox.worker) without the
// relay, the PostgreSQL outbox and their dependencies.
export default defineConfig({ ...library, entry: ['src/index.ts', 'src/pg.ts', 'src/outbox.ts'] })
