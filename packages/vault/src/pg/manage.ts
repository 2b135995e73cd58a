import { and, count, eq } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/node-postgres'
import type { Pool } from 'pg'
import { VaultCipher } from '../cipher.js'
import { KDF } from '../crypto.js'
import { isNewerFormat, newerFormat, VaultError } from '../errors.js'
import { cachedVaultKey } from '../keycache.js'
import type { StoredRowSets } from '../row-set.js'
import { assertSameSalt, checkSalt } from '../salt.js'
import type { VaultStore } from '../store.js'
import type { VaultInfo } from '../types.js'
import { upgradedRowSets, upgradedSeal } from '../upgrade-rows.js'
import { validateMasterKey, validateVaultName } from '../validate.js'
import {
  checkVaultKey,
  KNOWN_FORMATS,
  LEGACY_FORMAT,
  makeVaultState,
  openVaultState,
  SEALED_FORMAT,
} from '../vault-format.js'

import { toPgVaultError } from './errors.js'
import * as schema from './schema.js'
import { type PgVaultDb, PgVaultStore } from './store.js'

const { agents, credentials, grants, vaults } = schema

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
        formatVersion: SEALED_FORMAT,
        kdf: KDF.name,
        kdfIterations: KDF.iterations,
        salt,
        keyCheck: makeVaultState(name, key, {
          rbacSince: null,
          rows: new VaultCipher(name, key).rowSets({ credentials: [], agents: [], grants: [] }),
        }),
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
  if (isNewerFormat(row.formatVersion, SEALED_FORMAT)) {
    throw newerFormat(name, 'PostgreSQL', row.formatVersion, SEALED_FORMAT)
  }
  if (
    !KNOWN_FORMATS.includes(row.formatVersion) ||
    row.kdf !== KDF.name ||
    !Number.isSafeInteger(row.kdfIterations) ||
    row.kdfIterations < KDF.iterations ||
    row.salt.length < 16
  ) {
    throw new VaultError('corrupt', `The stored settings of vault "${name}" in PostgreSQL are damaged`)
  }
  assertSameSalt(name, row.salt, opts.salt)
  const key = cachedVaultKey(masterKey, row.salt, row.kdfIterations)
  const cipher = new VaultCipher(name, key)
  const checked = checkVaultKey(name, key, row.formatVersion, row.keyCheck)
  if (checked.kind === 'legacy' || checked.format !== SEALED_FORMAT) {
    await run(() => upgradePgVault(opts.pool, name, key, cipher))
  }
  return new PgVaultStore(opts.pool, name, cipher)
}

/**
 * Upgrades an older vault to the current format in one transaction holding the vault row's lock (as
 * every write does): each row sealed at the current format when the old format left it unsealed or
 * its old seal holds (see `upgradedSeal`), then the key check becomes the sealed state with the sets
 * of rows (keeping what an older state says; see `upgradedRowSets` for a table a format-4 state
 * disowns). Another process that upgraded it first leaves nothing.
 */
async function upgradePgVault(pool: Pool, name: string, key: Buffer, cipher: VaultCipher): Promise<void> {
  await drizzle({ client: pool, schema }).transaction(async (tx) => {
    const [vault] = await tx
      .select({ formatVersion: vaults.formatVersion, keyCheck: vaults.keyCheck })
      .from(vaults)
      .where(eq(vaults.name, name))
      .for('update')
    if (vault === undefined || vault.formatVersion === SEALED_FORMAT) return
    const from = vault.formatVersion
    const before = await storedRowSets(tx, name)
    for (const { vault: _vault, ...row } of await tx
      .select()
      .from(credentials)
      .where(eq(credentials.vault, name))) {
      const seal = upgradedSeal(cipher, from, { kind: 'credential', row }, row.seal)
      if (seal === null) continue
      await tx
        .update(credentials)
        .set({ seal })
        .where(and(eq(credentials.vault, name), eq(credentials.id, row.id)))
    }
    for (const { vault: _vault, ...row } of await tx.select().from(agents).where(eq(agents.vault, name))) {
      const seal = upgradedSeal(cipher, from, { kind: 'agent', row }, row.seal)
      if (seal === null) continue
      await tx
        .update(agents)
        .set({ seal })
        .where(and(eq(agents.vault, name), eq(agents.id, row.id)))
    }
    for (const row of await tx.select().from(grants).where(eq(grants.vault, name))) {
      const seal = upgradedSeal(cipher, from, { kind: 'grant', row }, row.seal)
      if (seal === null) continue
      await tx
        .update(grants)
        .set({ seal })
        .where(
          and(
            eq(grants.vault, name),
            eq(grants.agentId, row.agentId),
            eq(grants.credentialId, row.credentialId),
          ),
        )
    }
    const rbacSince = from === LEGACY_FORMAT ? null : openVaultState(name, key, vault.keyCheck).rbacSince
    const rows = upgradedRowSets(cipher, from, vault.keyCheck, before, await storedRowSets(tx, name))
    await tx
      .update(vaults)
      .set({ formatVersion: SEALED_FORMAT, keyCheck: makeVaultState(name, key, { rbacSince, rows }) })
      .where(eq(vaults.name, name))
  })
}

/** The stored values each table's set MAC covers (see row-set.ts), for one vault. */
async function storedRowSets(tx: Pick<PgVaultDb, 'select'>, name: string): Promise<StoredRowSets> {
  return {
    credentials: await tx
      .select({ seal: credentials.seal, secret: credentials.secret })
      .from(credentials)
      .where(eq(credentials.vault, name)),
    agents: await tx.select({ seal: agents.seal }).from(agents).where(eq(agents.vault, name)),
    grants: await tx.select({ seal: grants.seal }).from(grants).where(eq(grants.vault, name)),
  }
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
