/**
 * A gate whose state lives in PostgreSQL, shared with every other gate and CLI on the same
 * database: credentials and agents held in memory (`LiveCredentialSource`) and reloaded when the
 * `ChangeFeed` says something changed (LISTEN/NOTIFY, a full reload after every reconnect, a poll as
 * the safety net); the ledger with group commit and the webhook outbox written in its batches; the
 * users read on each admin-socket call.
 */
import { checkUserAccess, type UserStore } from '@aegis/access'
import type { AegisConfig } from '@aegis/config'
import { ChangeFeed } from '@aegis/pg'
import { LiveCredentialSource, type VaultStore } from '@aegis/vault'
import type { Logger } from 'pino'
import { CliError } from './errors.js'
import { ADMIN_PERMISSION, type GateState, type GateStateOptions } from './gate-state.js'
import { pgFailure, pgWhere } from './postgres.js'
import { openStorage, type Storage } from './storage.js'
import { throttledWarn } from './throttled-log.js'
import { invalidKeyMessage } from './workspace.js'

/** The change topics whose tables the gate's snapshot is made of. */
const RELOAD_TOPICS: ReadonlySet<string> = new Set(['vault', 'agents'])

const NOT_SEALABLE =
  'A gate on PostgreSQL runs with the master key it started with and cannot be sealed or unsealed over its socket: stop it to take the key away'

export async function openPgGateState(
  options: GateStateOptions & { url: string; config: AegisConfig; logger: Logger },
): Promise<GateState> {
  const { url, config, logger } = options
  const where = pgWhere(url)
  // No sealed start here: the key must be at hand (AEGIS_MASTER_KEY, unsealed.key or the config).
  const masterKey = options.masterKey()
  const storage: Storage = await openStorage(config, options.dataDir, {
    onPoolError: throttledWarn(logger, 'PostgreSQL: an idle connection failed', { postgres: where }),
  })
  const pool = storage.pool
  if (pool === undefined) throw new Error('internal: PostgreSQL storage without a pool')
  let store: VaultStore | undefined
  let users: UserStore | undefined
  let ledgerClose: (() => Promise<void>) | undefined
  try {
    try {
      store = await storage.openVault(options.vaultName, masterKey)
    } catch (error) {
      const code = (error as { code?: unknown }).code
      if (code === 'invalid_master_key') {
        throw new CliError(invalidKeyMessage(masterKey, options.vaultName), { cause: error })
      }
      if (code === 'no_vault') {
        throw new CliError(
          `No vault "${options.vaultName}" in PostgreSQL at ${where} (create it: aegis init, or aegis vault create --name ${options.vaultName})`,
          { cause: error },
        )
      }
      throw error
    }
    const vaultStore = store
    const source = await LiveCredentialSource.open(vaultStore, {
      onError: throttledWarn(logger, 'PostgreSQL: reloading credentials failed; serving the last ones', {
        postgres: where,
      }),
    })
    const { ledger, outbox } = await storage.openOutbox({ background: true })
    ledgerClose = () => ledger.close()
    const usersStore = await storage.openUsers()
    if (usersStore === null) throw new Error('internal: PostgreSQL storage without users')
    users = usersStore
    let refresh = () => {}
    const feed = new ChangeFeed(pool, {
      url,
      pollIntervalMs: config.storage.postgres.poll_interval_ms,
      // Credentials, vaults, agents and grants are what the gate holds (users are read per admin
      // call, the outbox per claim). After a reload the gate takes the new snapshot now rather than
      // at its next 250 ms poll.
      onEvent: (event) => {
        if (event.kind === 'change' && !RELOAD_TOPICS.has(event.topic)) return
        source.reload().then(
          () => refresh(),
          () => {},
        )
      },
      onError: throttledWarn(logger, 'PostgreSQL: change feed lost its connection; reconnecting', {
        postgres: where,
      }),
    })
    return {
      engine: 'postgres',
      vault: {
        name: vaultStore.name,
        isSealed: () => false,
        rbacSince: () => null,
        loadCredentials: () => source.loadCredentials(),
        sealSecret: (purpose, plaintext) => vaultStore.sealSecret(purpose, plaintext),
        openSecret: (purpose, envelope) => vaultStore.openSecret(purpose, envelope),
      },
      credentials: source,
      audit: ledger,
      ledger,
      outbox,
      adminAuthorize: async (token) => {
        const check = await checkUserAccess(usersStore, { token, permission: ADMIN_PERMISSION })
        return check.ok ? { ok: true } : { ok: false, status: check.status, message: check.message }
      },
      adminHandlers: () => ({
        status: () => ({ sealed: false, threshold: null, progress: 0 }),
        unseal: async () => {
          throw new Error(NOT_SEALABLE)
        },
        resetUnseal: () => {
          throw new Error(NOT_SEALABLE)
        },
        seal: () => {
          throw new Error(NOT_SEALABLE)
        },
      }),
      watch: async (gateRefresh) => {
        refresh = gateRefresh
        try {
          await feed.start()
        } catch (error) {
          throw pgFailure(error, url)
        }
      },
      // The feed first (no reload may start on a closing pool), then the ledger (its last batch
      // commits), then the stores, then the pool they borrowed.
      close: async () => {
        try {
          await feed.close()
        } finally {
          try {
            await ledger.close()
          } finally {
            await usersStore.close().catch(() => {})
            source.close()
            await vaultStore.close().catch(() => {})
            await storage.close()
          }
        }
      },
    }
  } catch (error) {
    await ledgerClose?.().catch(() => {})
    await users?.close().catch(() => {})
    await store?.close().catch(() => {})
    await storage.close().catch(() => {})
    throw pgFailure(error, url)
  }
}
