import { fileURLToPath } from 'node:url'
import type { MigrationSet } from '@aegis/pg'

/**
 * The vault's PostgreSQL migrations (`drizzle-pg/` beside `src/` and `dist/`): tables vaults,
 * credentials, agents, grants in schema `aegis`, and their change triggers. Apply with @aegis/pg's
 * `migrate(pool, [VAULT_PG_MIGRATIONS])` (the host's `aegis storage migrate`).
 */
export const VAULT_PG_MIGRATIONS: MigrationSet = {
  name: 'vault',
  folder: fileURLToPath(new URL('../drizzle-pg', import.meta.url)),
  table: '__migrations_vault',
}
