import { sql } from 'drizzle-orm'
import { blob, check, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'

/** One row per operator. Only the SHA-256 of a token is kept; times are epoch milliseconds. */
export const users = sqliteTable(
  'users',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    name: text('name').notNull(),
    role: text('role').notNull(),
    /** The token's public id (`aegis_user_<id>_…`), to name a token without holding it. */
    tokenId: text('token_id').notNull(),
    tokenHash: blob('token_hash', { mode: 'buffer' }).notNull(),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    /** When the token was last presented (to the minute: see `LAST_USE_RESOLUTION_MS`); null: never. */
    lastUsedAt: integer('last_used_at'),
  },
  (t) => [
    uniqueIndex('users_name').on(t.name),
    uniqueIndex('users_token_hash').on(t.tokenHash),
    check('users_role', sql`${t.role} IN ('admin', 'operator', 'viewer')`),
  ],
)

/** Install-wide settings; `bootstrap_completed_at` (ISO 8601) ends bootstrap for good. */
export const settings = sqliteTable('settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
})
