import { defineConfig } from 'tsup'
import { library } from '../../tsup.shared.ts'

// Three entries: the API; `@aegis/vault/pg`, the PostgreSQL engine, so that importing the package
// does not load pg and drizzle's pg-core; `@aegis/vault/prepare`, the key derivation ahead of
// `openVault`, which loads no storage engine at all (shared modules go to shared chunks: one
// VaultError, one key cache).
export default defineConfig({ ...library, entry: ['src/index.ts', 'src/pg.ts', 'src/prepare.ts'] })
