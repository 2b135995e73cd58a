import { count, eq } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/node-postgres'
import type { Pool } from 'pg'
import { makeKeyCheck, VaultCipher, verifyKeyCheck } from '../cipher.js'
import { KDF } from '../crypto.js'
import { VaultError } from '../errors.js'
import { cachedVaultKey } from '../keycache.js'
import { assertSameSalt, checkSalt } from '../salt.js'
import type { VaultStore } from '../store.js'
import type { VaultInfo } from '../types.js'
import { validateMasterKey, validateVaultName } from '../validate.js'
import { toPgVaultError } from './errors.js'
import * as schema from './schema.js'
import { PgVaultStore } from './store.js'

const { credentials, vaults } = schema

/** Format version of a PostgreSQL vault row (as the SQLite meta table's `format_version`). */
const FORMAT_VERSION = '1'

/** What `VaultInfo.file` says for a vault that lives in PostgreSQL (there is no file). */
export const PG_VAULT_LOCATION = 'postgresql'

export interface PgVaultOptions {
  /** The host's pool; the store never closes it. */
  pool: Pool
  name: string
  masterKey: string
  /**
   * Create: the KDF salt (16-64 bytes; random 32 bytes when omitted). Open: the salt the caller was
   * configured with, which must be the vault's own (`invalid_input` otherwise).
   */
  salt?: Buffer
}

async function run<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    throw toPgVaultError(err)
  }
}

/**
 * Creates a vault in PostgreSQL (a fresh salt, the same KDF and key check as a SQLite vault).
 * Throws `exists` when a vault of that name is already there.
 */
export async function createPgVault(opts: PgVaultOptions): Promise<VaultStore> {
  const name = validateVaultName(opts.name)
  const masterKey = validateMasterKey(opts.masterKey)
  const salt = checkSalt(opts.salt)
  const key = cachedVaultKey(masterKey, salt, KDF.iterations)
  const db = drizzle({ client: opts.pool, schema })
  const inserted = await run(() =>
    db
      .insert(vaults)
      .values({
        name,
        formatVersion: FORMAT_VERSION,
        kdf: KDF.name,
        kdfIterations: KDF.iterations,
        salt,
        keyCheck: makeKeyCheck(name, key),
        createdAt: new Date().toISOString(),
      })
      .onConflictDoNothing()
      .returning({ name: vaults.name }),
  )
  if (inserted.length === 0) throw new VaultError('exists', `Vault "${name}" already exists`)
  return new PgVaultStore(opts.pool, name, new VaultCipher(name, key))
}

/**
 * Opens a vault in PostgreSQL. Throws `no_vault` (none of that name), `invalid_master_key`
 * (`Invalid master key`, checked before anything else happens) or `corrupt`.
 */
export async function openPgVault(opts: PgVaultOptions): Promise<VaultStore> {
  const name = validateVaultName(opts.name)
  const masterKey = validateMasterKey(opts.masterKey)
  const db = drizzle({ client: opts.pool, schema })
  const [row] = await run(() => db.select().from(vaults).where(eq(vaults.name, name)))
  if (row === undefined) throw new VaultError('no_vault', `No vault named "${name}" in PostgreSQL`)
  if (
    row.formatVersion !== FORMAT_VERSION ||
    row.kdf !== KDF.name ||
    !Number.isSafeInteger(row.kdfIterations) ||
    row.kdfIterations < KDF.iterations ||
    row.salt.length < 16
  ) {
    throw new VaultError('corrupt', `The stored settings of vault "${name}" in PostgreSQL are damaged`)
  }
  assertSameSalt(name, row.salt, opts.salt)
  const key = cachedVaultKey(masterKey, row.salt, row.kdfIterations)
  verifyKeyCheck(name, key, row.keyCheck)
  return new PgVaultStore(opts.pool, name, new VaultCipher(name, key))
}

/** Every vault in the database, by name, with its credential count. */
export async function listPgVaults(pool: Pool): Promise<VaultInfo[]> {
  const db = drizzle({ client: pool, schema })
  const rows = await run(() =>
    db
      .select({ name: vaults.name, createdAt: vaults.createdAt, credentials: count(credentials.id) })
      .from(vaults)
      .leftJoin(credentials, eq(credentials.vault, vaults.name))
      .groupBy(vaults.name, vaults.createdAt)
      .orderBy(vaults.name),
  )
  return rows.map((r) => ({
    name: r.name,
    file: PG_VAULT_LOCATION,
    createdAt: r.createdAt,
    credentials: r.credentials,
  }))
}

/** Deletes a vault with its credentials, agents and grants (one statement). Throws `no_vault`. */
export async function destroyPgVault(pool: Pool, name: string): Promise<void> {
  validateVaultName(name)
  const db = drizzle({ client: pool, schema })
  const gone = await run(() =>
    db.delete(vaults).where(eq(vaults.name, name)).returning({ name: vaults.name }),
  )
  if (gone.length === 0) throw new VaultError('no_vault', `No vault named "${name}" in PostgreSQL`)
}
