import { fileURLToPath } from 'node:url'
import type { MigrationSet } from '@aegis/pg'

/**
 * The webhook outbox's PostgreSQL migrations (`drizzle-pg/`, generated from src/pg/schema.ts).
 * This file stays at the top of src: `../drizzle-pg` is the package's folder from `src/` and from
 * `dist/index.js` alike.
 */
export const WEBHOOKS_PG_MIGRATIONS: MigrationSet = {
  name: 'webhooks',
  folder: fileURLToPath(new URL('../drizzle-pg', import.meta.url)),
  table: '__migrations_webhooks',
}
