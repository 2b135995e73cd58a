import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { and, count, eq } from 'drizzle-orm'
import { VaultCipher } from './cipher.js'
import { KDF } from './crypto.js'
import { type Connection, connect, migrateDatabase, readMeta } from './db.js'
import {
  corruptDatabase,
  isNewerFormat,
  missingDatabase,
  newerFormat,
  toVaultError,
  VaultError,
} from './errors.js'
import {
  createPrivateFile,
  ensurePrivateDir,
  removeDatabaseFiles,
  restrictDatabaseFiles,
  vaultFileName,
  vaultsDir,
} from './files.js'
import { cachedVaultKey } from './keycache.js'
import { readRegistry } from './registry.js'
import { withRegistryLock, writeRegistry } from './registry-write.js'
import type { StoredRowSets } from './row-set.js'
import { assertSameSalt, checkSalt } from './salt.js'
import { agents, credentials, grants, meta } from './schema.js'
import type { VaultInfo } from './types.js'
import { upgradedRowSets, upgradedSeal } from './upgrade-rows.js'
import { validateMasterKey, validateVaultName } from './validate.js'
import { Vault } from './vault.js'
import {
  checkVaultKey,
  KNOWN_FORMATS,
  LEGACY_FORMAT,
  makeVaultState,
  openVaultState,
  SEALED_FORMAT,
} from './vault-format.js'

export interface CreateVaultOptions {
  dataDir: string
  name: string
  masterKey: string
  /** KDF salt (16-64 bytes); a random 32-byte salt when omitted. */
  salt?: Buffer
}

export interface OpenVaultOptions {
  dataDir: string
  name: string
  masterKey: string
  /**
   * The salt the caller was configured with (a deployment's fixed salt). When given, the vault's own
   * salt must be this one: `invalid_input` otherwise, before the key is derived. A vault's salt never
   * changes, so a different one is a configuration mistake, not a wrong key.
   */
  salt?: Buffer
}

/**
 * Creates a new vault: `<dataDir>/vaults/<name>.db` (0600) plus its entry in `<dataDir>/vaults.json`.
 * Throws `exists` when the vault (or a stray database file of that name) is already there.
 */
export function createVault(opts: CreateVaultOptions): Vault {
  const name = validateVaultName(opts.name)
  const masterKey = validateMasterKey(opts.masterKey)
  const salt = checkSalt(opts.salt)
  const dataDir = resolve(opts.dataDir)
  const registry = readRegistry(dataDir)
  if (registry.vaults.some((v) => v.name === name))
    throw new VaultError('exists', `Vault "${name}" already exists`)
  const file = join(dataDir, vaultFileName(name))
  if (existsSync(file)) {
    throw new VaultError(
      'exists',
      `Vault "${name}" already exists: ${file} is present, though vaults.json does not list it (left by an interrupted vault create?); remove it with: aegis vault destroy --name ${name} --confirm`,
    )
  }

  try {
    ensurePrivateDir(dataDir)
    ensurePrivateDir(vaultsDir(dataDir))
  } catch (err) {
    throw toVaultError(err, dataDir)
  }
  const key = cachedVaultKey(masterKey, salt, KDF.iterations)
  const createdAt = new Date().toISOString()
  let conn: Connection | undefined
  let created = false
  try {
    createPrivateFile(file)
    created = true
    conn = connect(file)
    migrateDatabase(conn)
    const values = {
      format_version: SEALED_FORMAT,
      vault_name: name,
      kdf: KDF.name,
      kdf_iterations: String(KDF.iterations),
      salt: salt.toString('hex'),
      key_check: makeVaultState(name, key, {
        rbacSince: null,
        rows: new VaultCipher(name, key).rowSets({ credentials: [], agents: [], grants: [] }),
      }).toString('base64'),
      created_at: createdAt,
    }
    const db = conn.db
    conn.client.transaction(() => {
      for (const [k, value] of Object.entries(values)) db.insert(meta).values({ key: k, value }).run()
    })()
    restrictDatabaseFiles(file)
    withRegistryLock(dataDir, () => {
      const latest = readRegistry(dataDir)
      if (latest.vaults.some((v) => v.name === name))
        throw new VaultError('exists', `Vault "${name}" already exists`)
      latest.vaults.push({ name, file: vaultFileName(name), salt: salt.toString('hex'), createdAt })
      writeRegistry(dataDir, latest)
    })
    return new Vault({ name, file, conn, key })
  } catch (err) {
    conn?.client.close()
    if (created) removeDatabaseFiles(file)
    // Another process made the file since the check above (two creates of one name at once).
    if (!created && (err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new VaultError('exists', `Vault "${name}" already exists`)
    }
    throw toVaultError(err, file)
  }
}

/**
 * Opens an existing vault. Throws `no_vault` (not in the registry), `invalid_master_key`
 * (`Invalid master key`; nothing on disk is changed) or `corrupt`.
 */
export function openVault(opts: OpenVaultOptions): Vault {
  const name = validateVaultName(opts.name)
  const masterKey = validateMasterKey(opts.masterKey)
  const dataDir = resolve(opts.dataDir)
  const entry = readRegistry(dataDir).vaults.find((v) => v.name === name)
  if (!entry) throw new VaultError('no_vault', `No vault named "${name}" in ${dataDir}`)
  const file = join(dataDir, entry.file)
  if (!existsSync(file)) throw missingDatabase(file)

  let conn: Connection | undefined
  try {
    conn = connect(file)
    const m = readMeta(conn, file)
    const format = m.get('format_version') ?? ''
    if (isNewerFormat(format, SEALED_FORMAT)) throw newerFormat(name, file, format, SEALED_FORMAT)
    if (!KNOWN_FORMATS.includes(format) || m.get('kdf') !== KDF.name) {
      throw corruptDatabase(file)
    }
    if (m.get('vault_name') !== name) {
      throw new VaultError(
        'corrupt',
        `${file} belongs to another vault (${JSON.stringify(m.get('vault_name'))})`,
      )
    }
    if (m.get('salt') !== entry.salt) {
      throw new VaultError('corrupt', `The salt of vault "${name}" in vaults.json does not match ${file}`)
    }
    const iterations = Number(m.get('kdf_iterations'))
    if (!Number.isSafeInteger(iterations) || iterations < KDF.iterations) throw corruptDatabase(file)
    const check = m.get('key_check')
    if (check === undefined) throw corruptDatabase(file)
    assertSameSalt(name, Buffer.from(entry.salt, 'hex'), opts.salt)
    const key = cachedVaultKey(masterKey, Buffer.from(entry.salt, 'hex'), iterations)
    const checked = checkVaultKey(name, key, format, Buffer.from(check, 'base64'))
    // Only now, with the key verified, may anything be written.
    migrateDatabase(conn)
    if (checked.kind === 'legacy' || checked.format !== SEALED_FORMAT) upgradeVault(conn, file, name, key)
    restrictDatabaseFiles(file)
    return new Vault({ name, file, conn, key })
  } catch (err) {
    conn?.client.close()
    throw toVaultError(err, file)
  }
}

/**
 * Upgrades an older vault to the current format in one transaction: each row gets its seal at the
 * current format when the old format left it unsealed or its old seal holds (see `upgradedSeal`;
 * any other row keeps failing), then the key check becomes the sealed state with the sets of rows
 * (keeping what an older state says; see `upgradedRowSets` for a table a format-4 state disowns). Another process that upgraded it first (the format is
 * re-read under the write lock) leaves nothing to do.
 */
function upgradeVault(conn: Connection, file: string, name: string, key: Buffer): void {
  const cipher = new VaultCipher(name, key)
  const { db } = conn
  conn.client
    .transaction(() => {
      const stored = readMeta(conn, file)
      const from = stored.get('format_version') ?? ''
      if (from === SEALED_FORMAT) return
      const check = Buffer.from(stored.get('key_check') ?? '', 'base64')
      const before = storedRowSets(conn)
      for (const row of db.select().from(credentials).all()) {
        const seal = upgradedSeal(cipher, from, { kind: 'credential', row }, row.seal)
        if (seal !== null) db.update(credentials).set({ seal }).where(eq(credentials.id, row.id)).run()
      }
      for (const row of db.select().from(agents).all()) {
        const seal = upgradedSeal(cipher, from, { kind: 'agent', row }, row.seal)
        if (seal !== null) db.update(agents).set({ seal }).where(eq(agents.id, row.id)).run()
      }
      for (const row of db.select().from(grants).all()) {
        const seal = upgradedSeal(cipher, from, { kind: 'grant', row }, row.seal)
        if (seal === null) continue
        db.update(grants)
          .set({ seal })
          .where(and(eq(grants.agentId, row.agentId), eq(grants.credentialId, row.credentialId)))
          .run()
      }
      const rbacSince = from === LEGACY_FORMAT ? null : openVaultState(name, key, check).rbacSince
      const rows = upgradedRowSets(cipher, from, check, before, storedRowSets(conn))
      const state = makeVaultState(name, key, { rbacSince, rows }).toString('base64')
      db.update(meta).set({ value: state }).where(eq(meta.key, 'key_check')).run()
      db.update(meta).set({ value: SEALED_FORMAT }).where(eq(meta.key, 'format_version')).run()
    })
    .immediate()
}

/** The stored values each table's set MAC covers (see row-set.ts). */
function storedRowSets({ db }: Connection): StoredRowSets {
  return {
    credentials: db.select({ seal: credentials.seal, secret: credentials.secret }).from(credentials).all(),
    agents: db.select({ seal: agents.seal }).from(agents).all(),
    grants: db.select({ seal: grants.seal }).from(grants).all(),
  }
}

/** Vaults listed in `<dataDir>/vaults.json` (empty when there is none), with credential counts. */
export function listVaults(dataDir: string): VaultInfo[] {
  const dir = resolve(dataDir)
  return readRegistry(dir).vaults.map((v) => {
    const file = join(dir, v.file)
    const info: VaultInfo = { name: v.name, file, createdAt: v.createdAt }
    const n = countCredentials(file)
    if (n !== undefined) info.credentials = n
    return info
  })
}

function countCredentials(file: string): number | undefined {
  if (!existsSync(file)) return undefined
  let conn: Connection | undefined
  try {
    conn = connect(file)
    return conn.db.select({ n: count() }).from(credentials).get()?.n
  } catch {
    return undefined
  } finally {
    conn?.client.close()
  }
}

/** Deletes a vault's database (and -wal/-shm) and its registry entry. Throws `no_vault`. */
export function destroyVault(dataDir: string, name: string): void {
  validateVaultName(name)
  const dir = resolve(dataDir)
  const registry = readRegistry(dir)
  const file = join(dir, vaultFileName(name))
  const listed = registry.vaults.some((v) => v.name === name)
  if (!listed && !existsSync(file)) throw new VaultError('no_vault', `No vault named "${name}" in ${dir}`)
  try {
    removeDatabaseFiles(file)
  } catch (err) {
    throw toVaultError(err, file)
  }
  if (listed) {
    withRegistryLock(dir, () => {
      const latest = readRegistry(dir)
      writeRegistry(dir, { version: 1, vaults: latest.vaults.filter((v) => v.name !== name) })
    })
  }
}
