import { blob, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'

/**
 * Vault metadata: format version, KDF parameters, salt and the key-check value.
 * Values are text (binary values are base64).
 */
export const meta = sqliteTable('meta', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
})

/**
 * One row per credential. `secret` holds the sealed envelope (see crypto.ts); JSON columns
 * (`domains`, `scopes`) hold arrays of strings; times are ISO 8601 UTC text.
 */
export const credentials = sqliteTable(
  'credentials',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    service: text('service').notNull(),
    secret: blob('secret', { mode: 'buffer' }).notNull(),
    domains: text('domains').notNull(),
    authType: text('auth_type').notNull(),
    headerName: text('header_name'),
    queryParam: text('query_param'),
    scopes: text('scopes').notNull(),
    expiresAt: text('expires_at'),
    rateLimit: text('rate_limit'),
    bodyInspection: text('body_inspection').notNull(),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
    rotatedAt: text('rotated_at'),
  },
  (t) => [
    uniqueIndex('credentials_name_unique').on(t.name),
    uniqueIndex('credentials_service_unique').on(t.service),
  ],
)

export type CredentialRow = typeof credentials.$inferSelect
