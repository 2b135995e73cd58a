/**
 * `storage.postgres.url` set: the server reads what a gate on that database reads — credentials
 * and agents held in memory (`LiveCredentialSource`), reloaded whenever the `ChangeFeed` says
 * something changed (LISTEN/NOTIFY, a full reload after every reconnect, a poll as the safety
 * net) — and writes the shared ledger, whose batches carry the webhook events (a gate's relay
 * delivers them). RBAC reads the users in the same database. The deployment's sealed state
 * (`aegis vault seal`) is followed: sealed at start, it refuses to start; sealed while it runs, it
 * forgets the key and refuses every call (`sealed`) until it is restarted.
 */
import { ACCESS_PG_MIGRATIONS, checkUserAccess } from '@aegis/access'
import { openPgUserStore } from '@aegis/access/pg'
import type { AegisConfig } from '@aegis/config'
import { LEDGER_PG_MIGRATIONS, openPgLedger } from '@aegis/ledger'
import { assertSchemaCurrent, ChangeFeed, newerSchema, openPool, readSealState, SEAL_TOPIC } from '@aegis/pg'
import type { AuditSink, CredentialSource } from '@aegis/proxy'
import { SealableLiveSource, saltFromText, VAULT_PG_MIGRATIONS } from '@aegis/vault'
import { openPgVault } from '@aegis/vault/pg'
import { WEBHOOKS_PG_MIGRATIONS } from '@aegis/webhooks'
import { PgOutbox } from '@aegis/webhooks/pg'
import { accessRefusalLine } from './access-line.js'

/** What `serve` needs of either engine. */
export interface ServerState {
  vault: CredentialSource
  ledger: AuditSink & { close(): Promise<void> }
  /** Null while this build understands the stores; else what a newer aegis migrated (one line). */
  newerSchema(): Promise<string | null>
  close(): Promise<void>
}

/** Warn-level logging for connection trouble (the host's pino). */
export interface StateLogger {
  warn(object: object, message: string): void
}

/** Every schema this build reads and writes; `aegis storage migrate` applies them. */
const SETS = [VAULT_PG_MIGRATIONS, LEDGER_PG_MIGRATIONS, ACCESS_PG_MIGRATIONS, WEBHOOKS_PG_MIGRATIONS]

/**
 * Opens the pool, refuses a schema this build does not match, checks `gate:start` for the user
 * token, and opens the vault, its live source, the change feed and the ledger. Throws
 * `refuse(message)` for what the user can fix; everything opened is closed on failure.
 */
export async function openPgState(options: {
  config: AegisConfig
  url: string
  masterKey: string
  userToken: string | undefined
  logger: StateLogger
  refuse: (message: string) => Error
}): Promise<ServerState> {
  const { config, url, logger, refuse } = options
  const pool = openPool({
    url,
    max: config.storage.postgres.pool_max,
    applicationName: 'aegis-mcp-server',
  })
  const closers: (() => Promise<unknown>)[] = [() => pool.end()]
  const closeAll = async () => {
    for (const close of closers.reverse()) await close().catch(() => {})
  }
  try {
    await assertSchemaCurrent(pool, SETS)
    const users = openPgUserStore(pool)
    closers.push(() => users.close())
    const check = await checkUserAccess(users, { token: options.userToken, permission: 'gate:start' })
    if (!check.ok) throw refuse(accessRefusalLine(check))
    if ((await readSealState(pool)).sealed) {
      throw refuse(
        'The vault is sealed for every gate on this database (aegis vault seal): unseal it (aegis vault unseal), then start again',
      )
    }
    const source = new SealableLiveSource({
      name: config.vault.name,
      open: (masterKey) =>
        openPgVault({
          pool,
          name: config.vault.name,
          masterKey,
          // AEGIS_SALT / vault.salt: the vault must have been created with it.
          ...(config.vault.salt === undefined ? {} : { salt: saltFromText(config.vault.salt) }),
        }),
      live: {
        onError: (error) => logger.warn({ err: error.message }, 'PostgreSQL: reloading credentials failed'),
      },
    })
    const key = Buffer.from(options.masterKey, 'utf8')
    try {
      await source.unsealWith(key)
    } catch (error) {
      const code = (error as { code?: unknown }).code
      if (code === 'invalid_master_key') throw refuse(`Invalid master key for vault "${config.vault.name}"`)
      if (code === 'no_vault') throw refuse(`No vault "${config.vault.name}" in PostgreSQL (run aegis init)`)
      throw error
    } finally {
      key.fill(0)
    }
    // Sealing drops the snapshot and the store; a failed reload's retries stop with it.
    closers.push(async () => source.close())
    // Sealed by another process (a notification, or a full reload that may have missed one).
    const followSeal = () => {
      if (source.isSealed()) return
      readSealState(pool).then(
        (state) => {
          if (!state.sealed || source.isSealed()) return
          source.seal()
          logger.warn(
            {},
            'the vault was sealed for every gate on this database: every call is refused (sealed) until a restart',
          )
        },
        () => {},
      )
    }
    const feed = new ChangeFeed(pool, {
      url,
      pollIntervalMs: config.storage.postgres.poll_interval_ms,
      onEvent: (event) => {
        if (event.kind === 'reload' || event.topic === SEAL_TOPIC) followSeal()
        void source.reload().catch(() => {})
      },
      onError: (error) => logger.warn({ err: error.message }, 'PostgreSQL: change feed reconnecting'),
    })
    await feed.start()
    closers.push(() => feed.close())
    const ledger = openPgLedger({ pool, extensions: [new PgOutbox(pool)] })
    // The ledger closes in serve (its last batch commits); then the feed, the stores, the pool.
    return {
      vault: source,
      ledger,
      newerSchema: async () => {
        const ahead = await newerSchema(pool, SETS)
        return ahead === null
          ? null
          : `the PostgreSQL schema of "${ahead.set}" is newer than this aegis (${ahead.applied} migrations applied, ${ahead.known} known)`
      },
      close: closeAll,
    }
  } catch (error) {
    await closeAll()
    throw error
  }
}
