/**
 * The one place that picks the storage engine: `storage.postgres.url` (or AEGIS_PG_URL) set →
 * PostgreSQL, shared by every gate and CLI that names it; unset → the SQLite files in the data
 * directory, exactly as before. Commands and the gate runtime ask a `Storage` for the async stores
 * and never look at the engine themselves.
 */
import type { UserStore } from '@aegis/access'
import { AccessStore, accessFile, sqliteUserStore } from '@aegis/access'
import type { AegisConfig } from '@aegis/config'
import type { LedgerStore } from '@aegis/ledger'
import {
  createVault,
  destroyVault,
  listVaults,
  openVault,
  sqliteVaultStore,
  type VaultInfo,
  type VaultStore,
} from '@aegis/vault'
import type { OutboxStore } from '@aegis/webhooks'
import type { Pool } from 'pg'
import { vaultKeyPrefetched } from './key-prefetch.js'
import { ledgerPath } from './ledger-path.js'
import { refuseLostUsers } from './rbac-bootstrap.js'
import { configuredSalt, saltOption } from './salt.js'

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
  /**
   * SQLite: the command runs as bootstrap (access.db holds no user). A vault it opens whose sealed
   * state says RBAC was turned on refuses it (`lostUserStore`): access.db was deleted or emptied.
   */
  bootstrap?: boolean
}

/** Opens the storage `config` selects for the data directory `dataDir`. */
export async function openStorage(
  config: AegisConfig,
  dataDir: string,
  options: OpenStorageOptions = {},
): Promise<Storage> {
  const url = config.storage.postgres.url
  if (url === undefined) return sqliteStorage(dataDir, configuredSalt(config), options.bootstrap === true)
  // PostgreSQL (pg, drizzle's pg-core, every package's PostgreSQL engine) loads only when configured.
  const { openPgStorage } = await import('./storage-pg.js')
  return openPgStorage(config, url, options)
}

/** The embedded default: one SQLite file per vault, ledger.db, access.db in the data directory. */
function sqliteStorage(dataDir: string, salt: Buffer | undefined, bootstrap: boolean): Storage {
  const ledgerFile = ledgerPath(dataDir)
  const mode = (o: OpenLedgerOptions | undefined) =>
    o?.background === true
      ? ({ writer: 'worker', checkpoint: 'background' } as const)
      : ({ writer: 'inline', checkpoint: 'inline' } as const)
  return {
    engine: 'sqlite',
    pool: undefined,
    where: dataDir,
    openVault: async (name, masterKey) => {
      // The key bin/run.js started deriving, if it guessed this vault: then openVault need not.
      await vaultKeyPrefetched()
      const vault = openVault({ dataDir, name, masterKey, ...saltOption(salt) })
      if (bootstrap) refuseLostUsers(vault, dataDir)
      return sqliteVaultStore(vault)
    },
    createVault: async (name, masterKey) =>
      sqliteVaultStore(createVault({ dataDir, name, masterKey, ...saltOption(salt) })),
    listVaults: async () => listVaults(dataDir),
    destroyVault: async (name) => destroyVault(dataDir, name),
    // The ledger and the outbox load with their first use: vault and user commands never need them.
    openLedger: async (o) => {
      const { openLedger, sqliteLedgerStore } = await import('@aegis/ledger')
      return sqliteLedgerStore(openLedger({ file: ledgerFile, ...mode(o) }))
    },
    openOutbox: async (o) => {
      const [{ openLedger, sqliteLedgerStore }, { Outbox, sqliteOutboxStore }] = await Promise.all([
        import('@aegis/ledger'),
        import('@aegis/webhooks'),
      ])
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
