import { sql } from 'drizzle-orm'
import { bigint, check, customType, integer, pgSchema, text, uniqueIndex } from 'drizzle-orm/pg-core'

/** Every Aegis table lives in the PostgreSQL schema `aegis` (created by @aegis/pg's core migrations). */
export const aegis = pgSchema('aegis')

const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' })

/**
 * The same representation as the SQLite `users` table (src/schema.ts), so one mapper serves both:
 * times are epoch milliseconds, only the SHA-256 of a token is kept.
 */
export const users = aegis.table(
  'users',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    name: text('name').notNull(),
    role: text('role').notNull(),
    /** The token's public id (`aegis_user_<id>_…`), to name a token without holding it. */
    tokenId: text('token_id').notNull(),
    tokenHash: bytea('token_hash').notNull(),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
    /** When the token was last presented (to the minute: see `LAST_USE_RESOLUTION_MS`); null: never. */
    lastUsedAt: bigint('last_used_at', { mode: 'number' }),
  },
  (t) => [
    uniqueIndex('users_name').on(t.name),
    uniqueIndex('users_token_hash').on(t.tokenHash),
    check('users_role', sql`${t.role} IN ('admin', 'operator', 'viewer')`),
  ],
)

/** The access package's install-wide settings; `bootstrap_completed_at` (ISO 8601) ends bootstrap for good. */
export const accessMeta = aegis.table('access_meta', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
})
