import { sql } from 'drizzle-orm'
import {
  blob,
  check,
  index,
  integer,
  primaryKey,
  sqliteTable,
  text,
  uniqueIndex,
} from 'drizzle-orm/sqlite-core'

/**
 * Vault metadata: format version, KDF parameters, salt and the key-check value.
 * Values are text (binary values are base64).
 */
export const meta = sqliteTable('meta', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
})

/**
 * One row per credential. `secret` holds the sealed envelope (see crypto.ts), `seal` the HMAC of
 * the settings (settings-seal.ts); JSON columns
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
    /** HMAC of the row's settings under the vault key (see settings-seal.ts); NULL only before format 2. */
    seal: blob('seal', { mode: 'buffer' }),
  },
  (t) => [
    uniqueIndex('credentials_name_unique').on(t.name),
    uniqueIndex('credentials_service_unique').on(t.service),
  ],
)

export type CredentialRow = typeof credentials.$inferSelect

/**
 * One row per agent identity. The token itself is never stored: `token_hash` is its SHA-256
 * (32 bytes) and `prefix` its first characters, for display; `seal` authenticates both and the
 * limits. Times are ISO 8601 UTC text.
 */
export const agents = sqliteTable(
  'agents',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    tokenHash: blob('token_hash', { mode: 'buffer' }).notNull(),
    prefix: text('prefix').notNull(),
    rateLimit: text('rate_limit'),
    maxInFlight: integer('max_in_flight'),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
    tokenRotatedAt: text('token_rotated_at'),
    /** HMAC of the row's identity and limits (see settings-seal.ts); NULL only before format 3. */
    seal: blob('seal', { mode: 'buffer' }),
  },
  (t) => [
    uniqueIndex('agents_name_unique').on(t.name),
    uniqueIndex('agents_token_hash_unique').on(t.tokenHash),
    check('agents_token_hash_length', sql`length(${t.tokenHash}) = 32`),
    check('agents_max_in_flight_positive', sql`${t.maxInFlight} IS NULL OR ${t.maxInFlight} > 0`),
  ],
)

export type AgentRow = typeof agents.$inferSelect

/**
 * Which agent may use which credential. Removing either side removes the grant (ON DELETE
 * CASCADE; the connection runs with `foreign_keys=ON`), so a credential re-added under the same
 * name (a new id) starts with no grants. `seal` binds the grant to its two ids.
 */
export const grants = sqliteTable(
  'grants',
  {
    agentId: text('agent_id')
      .notNull()
      .references(() => agents.id, { onDelete: 'cascade' }),
    credentialId: text('credential_id')
      .notNull()
      .references(() => credentials.id, { onDelete: 'cascade' }),
    createdAt: text('created_at').notNull(),
    /** HMAC of the pair of ids (see settings-seal.ts); NULL only before format 3. */
    seal: blob('seal', { mode: 'buffer' }),
  },
  (t) => [
    primaryKey({ columns: [t.agentId, t.credentialId] }),
    // Lets the cascade from a removed credential find its grants without a table scan.
    index('grants_credential_id').on(t.credentialId),
  ],
)
