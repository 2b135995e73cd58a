/**
 * A gate whose state lives in PostgreSQL, shared with every other gate and CLI on the same
 * database: credentials and agents held in memory (`SealableLiveSource`) and reloaded when the
 * `ChangeFeed` says something changed (LISTEN/NOTIFY, a full reload after every reconnect, a poll as
 * the safety net); the deployment's sealed state (`aegis_seal`, topic `seal`): sealed there, the gate
 * seals itself; the ledger with group commit and the webhook outbox written in its batches; the
 * users read on each admin-socket call.
 */
import { checkUserAccess, type UserStore } from '@aegis/access'
import type { AegisConfig } from '@aegis/config'
import { ChangeFeed, newerSchema, readSealState, SEAL_TOPIC, writeSealState } from '@aegis/pg'
import { readCustody, SealableLiveSource } from '@aegis/vault'
import type { Logger } from 'pino'
import { CliError } from './errors.js'
import { ADMIN_PERMISSION, type GateState, type GateStateOptions } from './gate-state.js'
import { PG_MIGRATION_SETS, pgFailure, pgWhere } from './postgres.js'
import { openStorage, type Storage } from './storage.js'
import { throttledWarn } from './throttled-log.js'
import { invalidKeyMessage } from './workspace.js'

/** The change topics whose tables the gate's snapshot is made of. */
const RELOAD_TOPICS: ReadonlySet<string> = new Set(['vault', 'agents'])

export async function openPgGateState(
  options: GateStateOptions & { url: string; config: AegisConfig; logger: Logger },
): Promise<GateState> {
  const { url, config, logger } = options
  const where = pgWhere(url)
  // The key at hand (AEGIS_MASTER_KEY, unsealed.key or the config); none but a split key: sealed.
  let masterKey: string | null
  try {
    masterKey = options.masterKey()
  } catch (error) {
    if (readCustody(options.dataDir) === null) throw error
    masterKey = null
  }
  const storage: Storage = await openStorage(config, options.dataDir, {
    onPoolError: throttledWarn(logger, 'PostgreSQL: an idle connection failed', { postgres: where }),
  })
  const pool = storage.pool
  if (pool === undefined) throw new Error('internal: PostgreSQL storage without a pool')
  let users: UserStore | undefined
  let ledgerClose: (() => Promise<void>) | undefined
  const source = new SealableLiveSource({
    dataDir: options.dataDir,
    name: options.vaultName,
    open: (key) => storage.openVault(options.vaultName, key),
    live: {
      onError: throttledWarn(logger, 'PostgreSQL: reloading credentials failed; serving the last ones', {
        postgres: where,
      }),
    },
  })
  try {
    if (masterKey !== null) await unsealAtStart(source, masterKey, options.vaultName, where)
    masterKey = null
    // Sealed for the deployment (aegis vault seal on any host): this gate starts sealed too.
    const shared = await readSealState(pool)
    if (shared.sealed) source.seal()
    const { ledger, outbox } = await storage.openOutbox({ background: true })
    ledgerClose = () => ledger.close()
    const usersStore = await storage.openUsers()
    if (usersStore === null) throw new Error('internal: PostgreSQL storage without users')
    users = usersStore
    let refresh = () => {}
    // Written like gate_start: a failure to record does not undo the seal or the unseal.
    const recordSystem = (event: string, detail: string) => {
      ledger.system(event, detail).catch(() => {})
    }
    const sealHere = (detail: string) => {
      if (source.isSealed()) return
      source.seal()
      refresh()
      recordSystem('vault_sealed', `${detail}: requests are refused (sealed)`)
      logger.warn(`the vault is sealed (${detail}): requests are refused until aegis vault unseal`)
    }
    // Another gate or CLI sealed the deployment: seal here too. Read after every 'seal' change and
    // every full reload (a reconnect, or a poll that found a notification missed).
    // One read at a time; a request during a read runs one more after it (that read may have
    // started before the seal committed).
    let checking: Promise<void> | null = null
    let again = false
    const followSharedSeal = (): void => {
      if (checking !== null) {
        again = true
        return
      }
      checking = (async () => {
        do {
          again = false
          if (source.isSealed()) return
          try {
            const state = await readSealState(pool)
            if (state.sealed) {
              sealHere(`sealed for every gate on PostgreSQL${byWhom(state.changedBy ?? undefined)}`)
            }
          } catch {
            // PostgreSQL away: the feed reconnects and reloads in full, which reads the state again.
          }
        } while (again)
      })().finally(() => {
        checking = null
      })
    }
    const feed = new ChangeFeed(pool, {
      url,
      pollIntervalMs: config.storage.postgres.poll_interval_ms,
      // Credentials, vaults, agents and grants are what the gate holds (users are read per admin
      // call, the outbox per claim). After a reload the gate takes the new snapshot now rather than
      // at its next 250 ms poll.
      onEvent: (event) => {
        if (event.kind === 'reload' || event.topic === SEAL_TOPIC) followSharedSeal()
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
        name: source.name,
        isSealed: () => source.isSealed(),
        rbacSince: () => null,
        loadCredentials: () => source.loadCredentials(),
        sealSecret: (purpose, plaintext) => source.sealSecret(purpose, plaintext),
        openSecret: (purpose, envelope) => source.openSecret(purpose, envelope),
      },
      credentials: source,
      audit: ledger,
      ledger,
      outbox,
      adminAuthorize: async (token) => {
        const check = await checkUserAccess(usersStore, { token, permission: ADMIN_PERMISSION })
        if (!check.ok) return { ok: false, status: check.status, message: check.message }
        return check.actor.kind === 'user' ? { ok: true, caller: check.actor.name } : { ok: true }
      },
      // A seal here seals the deployment (every gate on the database follows within a second); an
      // unseal here proved the key, so it lifts the deployment's seal — but the other gates forgot
      // their key and stay sealed until each is unsealed (or restarted with the key at hand).
      adminHandlers: (gateRefresh) => ({
        status: () => source.status(),
        unseal: async (share, caller) => {
          const wasSealed = source.isSealed()
          const status = await source.submitShare(share)
          gateRefresh()
          if (wasSealed && !status.sealed) {
            recordSystem('vault_unsealed', `unsealed over the admin socket${byWhom(caller)}: serving`)
            await writeSealState(pool, false, caller ?? null).catch((error: unknown) =>
              logger.error({ err: String(error) }, 'PostgreSQL: the unseal could not be shared'),
            )
          }
          return status
        },
        resetUnseal: () => source.resetShares(),
        seal: (caller) => {
          sealHere(`sealed over the admin socket${byWhom(caller)}`)
          gateRefresh()
          // Not awaited: this gate is sealed already; `aegis vault seal` also writes it and says so.
          void writeSealState(pool, true, caller ?? null).catch((error: unknown) =>
            logger.error(
              { err: String(error) },
              'PostgreSQL: the seal could not be shared with the other gates',
            ),
          )
          return source.status()
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
      newerSchema: async () => {
        const ahead = await newerSchema(pool, PG_MIGRATION_SETS)
        return ahead === null
          ? null
          : `the PostgreSQL schema of "${ahead.set}" at ${where} is newer than this aegis (${ahead.applied} migrations applied, ${ahead.known} known)`
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
            await storage.close()
          }
        }
      },
    }
  } catch (error) {
    await ledgerClose?.().catch(() => {})
    await users?.close().catch(() => {})
    source.close()
    await storage.close().catch(() => {})
    throw pgFailure(error, url)
  }
}

/** Opens the vault with the key the gate started with, in the words `aegis gate` has always used. */
async function unsealAtStart(
  source: SealableLiveSource,
  masterKey: string,
  vaultName: string,
  where: string,
) {
  const bytes = Buffer.from(masterKey, 'utf8')
  try {
    await source.unsealWith(bytes)
  } catch (error) {
    const code = (error as { code?: unknown }).code
    if (code === 'invalid_master_key') {
      throw new CliError(invalidKeyMessage(masterKey, vaultName), { cause: error })
    }
    if (code === 'no_vault') {
      throw new CliError(
        `No vault "${vaultName}" in PostgreSQL at ${where} (create it: aegis init, or aegis vault create --name ${vaultName})`,
        { cause: error },
      )
    }
    throw error
  } finally {
    bytes.fill(0)
  }
}

/** ` by <user>` when a user (not bootstrap) made the call. */
function byWhom(caller: string | undefined): string {
  return caller === undefined ? '' : ` by ${caller}`
}
