import { fileURLToPath } from 'node:url'
import type { MigrationSet } from '@aegis/pg'

/**
 * The access package's PostgreSQL migrations (`drizzle-pg/`, generated from src/pg/schema.ts).
 * Beside `src/` and `dist/` alike, so this file must stay at the top of src (tsup bundles it into
 * dist/index.js, one level below the package root as here).
 */
export const ACCESS_PG_MIGRATIONS: MigrationSet = {
  name: 'access',
  folder: fileURLToPath(new URL('../drizzle-pg', import.meta.url)),
  table: '__migrations_access',
}
