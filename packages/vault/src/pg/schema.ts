import { sql } from 'drizzle-orm'
import {
  check,
  customType,
  foreignKey,
  index,
  integer,
  pgSchema,
  primaryKey,
  text,
  unique,
  uniqueIndex,
} from 'drizzle-orm/pg-core'

// The vault tables on PostgreSQL. Columns hold the same representations as the SQLite schema
// (../schema.ts: JSON arrays as text, ISO 8601 UTC text, sealed envelopes as bytes) so one mapper
// (credential-rows.ts, agent-rows.ts) serves both engines. One database holds every vault: each
// row carries its `vault`, and uniqueness is per vault, as it is per file on SQLite.

/** `bytea` read and written as a Buffer (node-postgres's own mapping). */
const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' })

export const aegis = pgSchema('aegis')

/** One row per vault: what the SQLite meta table and vaults.json hold (KDF, salt, key check). */
export const vaults = aegis.table('vaults', {
  name: text('name').primaryKey(),
  formatVersion: text('format_version').notNull(),
  kdf: text('kdf').notNull(),
  kdfIterations: integer('kdf_iterations').notNull(),
  salt: bytea('salt').notNull(),
  /** A known plaintext sealed with the vault key: a wrong master key fails here, before any write. */
  keyCheck: bytea('key_check').notNull(),
  createdAt: text('created_at').notNull(),
})

export const credentials = aegis.table(
  'credentials',
  {
    vault: text('vault')
      .notNull()
      .references(() => vaults.name, { onDelete: 'cascade' }),
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    service: text('service').notNull(),
    secret: bytea('secret').notNull(),
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
    seal: bytea('seal'),
  },
  (t) => [
    uniqueIndex('credentials_vault_name_unique').on(t.vault, t.name),
    uniqueIndex('credentials_vault_service_unique').on(t.vault, t.service),
    // Target of grants' composite foreign key: a grant never joins rows of two vaults.
    unique('credentials_vault_id_unique').on(t.vault, t.id),
  ],
)

export const agents = aegis.table(
  'agents',
  {
    vault: text('vault')
      .notNull()
      .references(() => vaults.name, { onDelete: 'cascade' }),
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    tokenHash: bytea('token_hash').notNull(),
    prefix: text('prefix').notNull(),
    rateLimit: text('rate_limit'),
    maxInFlight: integer('max_in_flight'),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
    tokenRotatedAt: text('token_rotated_at'),
    /** HMAC of the row's identity and limits (see settings-seal.ts); NULL only before format 3. */
    seal: bytea('seal'),
  },
  (t) => [
    uniqueIndex('agents_vault_name_unique').on(t.vault, t.name),
    uniqueIndex('agents_vault_token_hash_unique').on(t.vault, t.tokenHash),
    unique('agents_vault_id_unique').on(t.vault, t.id),
    check('agents_token_hash_length', sql`octet_length(${t.tokenHash}) = 32`),
    check('agents_max_in_flight_positive', sql`${t.maxInFlight} IS NULL OR ${t.maxInFlight} > 0`),
  ],
)

/** Which agent may use which credential; removing either side (or the vault) removes the grant. */
export const grants = aegis.table(
  'grants',
  {
    vault: text('vault').notNull(),
    agentId: text('agent_id').notNull(),
    credentialId: text('credential_id').notNull(),
    createdAt: text('created_at').notNull(),
    /** HMAC of the pair of ids (see settings-seal.ts); NULL only before format 3. */
    seal: bytea('seal'),
  },
  (t) => [
    primaryKey({ columns: [t.agentId, t.credentialId] }),
    foreignKey({ columns: [t.vault, t.agentId], foreignColumns: [agents.vault, agents.id] }).onDelete(
      'cascade',
    ),
    foreignKey({
      columns: [t.vault, t.credentialId],
      foreignColumns: [credentials.vault, credentials.id],
    }).onDelete('cascade'),
    index('grants_credential_id').on(t.credentialId),
  ],
)
