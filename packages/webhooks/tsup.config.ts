import { defineConfig } from 'tsup'
import { library } from '../../tsup.shared.ts'

// Two entries: the API and `@aegis/webhooks/pg`, the PostgreSQL engine, so that importing the package
// does not load pg and drizzle's pg-core (shared modules go to one chunk: one VaultError, one key cache).
export default defineConfig({ ...library, entry: ['src/index.ts', 'src/pg.ts'] })
