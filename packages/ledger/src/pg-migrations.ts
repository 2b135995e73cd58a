import { fileURLToPath } from 'node:url'
import type { MigrationSet } from '@aegis/pg'

/**
 * The PostgreSQL ledger's migrations (`drizzle-pg/`, generated from src/pg/schema.ts by
 * `pnpm db:generate:pg`), applied by `migrate(pool, [LEDGER_PG_MIGRATIONS, …])` of `@aegis/pg`.
 * This file sits directly in src/ so the folder is the same relative path from src/ and dist/.
 */
export const LEDGER_PG_MIGRATIONS: MigrationSet = {
  name: 'ledger',
  folder: fileURLToPath(new URL('../drizzle-pg', import.meta.url)),
  table: '__migrations_ledger',
}
