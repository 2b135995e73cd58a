/**
 * The one place that picks the storage engine: `storage.postgres.url` (or AEGIS_PG_URL) set →
 * PostgreSQL, shared by every gate and CLI that names it; unset → the SQLite files in the data
 * directory, exactly as before. Commands and the gate runtime ask a `Storage` for the async stores
 * and never look at the engine themselves.
 */
import { AccessStore, accessFile, openPgUserStore, sqliteUserStore, type UserStore } from '@aegis/access'
import type { AegisConfig } from '@aegis/config'
import { type LedgerStore, openLedger, openPgLedger, sqliteLedgerStore } from '@aegis/ledger'
import { assertSchemaCurrent } from '@aegis/pg'
import {
  createPgVault,
  createVault,
  destroyPgVault,
  destroyVault,
  listPgVaults,
  listVaults,
  openPgVault,
  openVault,
  sqliteVaultStore,
  type VaultInfo,
  type VaultStore,
} from '@aegis/vault'
import { Outbox, type OutboxStore, PgOutbox, sqliteOutboxStore } from '@aegis/webhooks'
import type { Pool } from 'pg'
import { ledgerPath } from './ledger-file.js'
import { openConfiguredPool, PG_MIGRATION_SETS, pgFailure, pgWhere } from './postgres.js'

/** The ledger with the webhook outbox whose events it writes in its own transactions. */
export interface LedgerWithOutbox {
  ledger: LedgerStore
  outbox: OutboxStore
}

export interface OpenLedgerOptions {
  /**
   * The gate's mode: on SQLite the batch transaction runs in a writer thread, which also checkpoints
   * (`writer: 'worker'`, `checkpoint: 'background'`); one-shot commands keep the inline writer.
   */
  background?: boolean
}

export interface Storage {
  readonly engine: 'sqlite' | 'postgres'
  /** The pool every PostgreSQL store of this process shares (undefined on SQLite). */
  readonly pool: Pool | undefined
  /** For messages: the data directory, or the PostgreSQL URL with its password masked. */
  readonly where: string
  /** VaultError 'no_vault' for an unknown vault, 'invalid_master_key' for a wrong key. */
  openVault(name: string, masterKey: string): Promise<VaultStore>
  createVault(name: string, masterKey: string): Promise<VaultStore>
  listVaults(): Promise<VaultInfo[]>
  /** Deletes a vault and everything in it; VaultError 'no_vault' for an unknown one. */
  destroyVault(name: string): Promise<void>
  /** The ledger alone (readers and `ledger` commands). The caller closes it. */
  openLedger(options?: OpenLedgerOptions): Promise<LedgerStore>
  /** The ledger with the outbox attached (the gate, `webhook` commands). The caller closes the ledger. */
  openOutbox(options?: OpenLedgerOptions): Promise<LedgerWithOutbox>
  /** The users; null when none was ever added (SQLite: no access.db) unless `create`. The caller closes it. */
  openUsers(options?: { create?: boolean }): Promise<UserStore | null>
  /** Releases the pool (PostgreSQL); stores opened from it must be closed first. */
  close(): Promise<void>
}

export interface OpenStorageOptions {
  /**
   * PostgreSQL: refuse a schema this build does not match (default). Only `storage migrate`,
   * `doctor` and `init` open it without the check, to migrate or report.
   */
  checkSchema?: boolean
  /** PostgreSQL: an idle connection's error (the server restarted); the pool replaces it. */
  onPoolError?: (error: Error) => void
}

/** Opens the storage `config` selects for the data directory `dataDir`. */
export async function openStorage(
  config: AegisConfig,
  dataDir: string,
  options: OpenStorageOptions = {},
): Promise<Storage> {
  const url = config.storage.postgres.url
  if (url === undefined) return sqliteStorage(dataDir)
  const pool = openConfiguredPool(config, url, {
    ...(options.onPoolError !== undefined && { onError: options.onPoolError }),
  })
  try {
    // The first query also proves the server answers and takes the login.
    if (options.checkSchema === false) await pool.query('SELECT 1')
    else await assertSchemaCurrent(pool, PG_MIGRATION_SETS)
  } catch (error) {
    await pool.end().catch(() => {})
    throw pgFailure(error, url)
  }
  return pgStorage(pool, url)
}

/**
 * PostgreSQL: every vault, the ledger, users and webhooks in one database, shared by every process
 * that names it. The stores borrow this pool; `close` ends it.
 */
function pgStorage(pool: Pool, url: string): Storage {
  // A failure past the first query (the server went away) still gets the one-line wording.
  const guarded =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await fn(...args)
      } catch (error) {
        throw pgFailure(error, url)
      }
    }
  return {
    engine: 'postgres',
    pool,
    where: pgWhere(url),
    openVault: guarded((name: string, masterKey: string) => openPgVault({ pool, name, masterKey })),
    createVault: guarded((name: string, masterKey: string) => createPgVault({ pool, name, masterKey })),
    listVaults: guarded(() => listPgVaults(pool)),
    destroyVault: guarded((name: string) => destroyPgVault(pool, name)),
    openLedger: async () => openPgLedger({ pool }),
    openOutbox: async () => {
      const outbox = new PgOutbox(pool)
      return { ledger: openPgLedger({ pool, extensions: [outbox] }), outbox }
    },
    // No users table yet (`storage migrate` has not run: only init, doctor and storage commands get
    // here) holds no user, like a missing access.db; an empty table the store answers itself.
    openUsers: guarded(async (o?: { create?: boolean }) => {
      if (o?.create !== true) {
        const found = await pool.query<{ t: string | null }>("SELECT to_regclass('aegis.users') AS t")
        if (found.rows[0]?.t == null) return null
      }
      return openPgUserStore(pool)
    }),
    close: () => pool.end(),
  }
}

/** The embedded default: one SQLite file per vault, ledger.db, access.db in the data directory. */
function sqliteStorage(dataDir: string): Storage {
  const ledgerFile = ledgerPath(dataDir)
  const mode = (o: OpenLedgerOptions | undefined) =>
    o?.background === true
      ? ({ writer: 'worker', checkpoint: 'background' } as const)
      : ({ writer: 'inline', checkpoint: 'inline' } as const)
  return {
    engine: 'sqlite',
    pool: undefined,
    where: dataDir,
    openVault: async (name, masterKey) => sqliteVaultStore(openVault({ dataDir, name, masterKey })),
    createVault: async (name, masterKey) => sqliteVaultStore(createVault({ dataDir, name, masterKey })),
    listVaults: async () => listVaults(dataDir),
    destroyVault: async (name) => destroyVault(dataDir, name),
    openLedger: async (o) => sqliteLedgerStore(openLedger({ file: ledgerFile, ...mode(o) })),
    openOutbox: async (o) => {
      const outbox = new Outbox()
      const ledger = openLedger({ file: ledgerFile, ...mode(o), extensions: [outbox] })
      return { ledger: sqliteLedgerStore(ledger), outbox: sqliteOutboxStore(outbox) }
    },
    openUsers: async (o) => {
      const store = AccessStore.open({ file: accessFile(dataDir), create: o?.create === true })
      return store === null ? null : sqliteUserStore(store)
    },
    close: async () => {},
  }
}
