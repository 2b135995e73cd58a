import { existsSync } from 'node:fs'
import { constants } from 'node:os'
import { join } from 'node:path'
import { accessFile, checkAccess } from '@aegis/access'
import { isPlaceholder, loadConfig, placeholderVariable } from '@aegis/config'
import { openLedger } from '@aegis/ledger'
import { startMcp } from '@aegis/mcp'
import { StopSignals } from '@aegis/proxy/internal'
import { rateLimiterFromConfig } from '@aegis/redis-rate-limit'
import { openVault, rbacRecord, readCustody, readUnsealedKey, saltFromText } from '@aegis/vault'
import { Outbox } from '@aegis/webhooks'
import pino from 'pino'
import { accessRefusalLine } from './access-line.js'
import type { CliArgs } from './args.js'
import { openPgState, type ServerState } from './postgres.js'

/** A problem the user can fix; printed as one line, exit status 1. */
export class StartupError extends Error {
  override readonly name = 'StartupError'
}

export interface ServeOptions {
  args: CliArgs
  env: Record<string, string | undefined>
  cwd: string
  version: string
  /** Where human-readable status lines go (stderr). */
  status: (line: string) => void
}

/**
 * Loads the config, opens the vault and ledger, serves MCP until the client goes away (stdio) or a
 * signal arrives, then closes everything (the ledger is flushed last).
 */
export async function serve(options: ServeOptions): Promise<void> {
  const signals = new StopSignals({
    source: process,
    early: (signal) =>
      options.status(`${signal} received: the MCP server stops once started (again to quit now)`),
    // A second signal while it starts ends the process as the signal would have.
    force: (signal) => process.exit(128 + (constants.signals[signal] ?? 0)),
  })
  try {
    await serveUntilStopped(options, signals)
  } finally {
    signals.dispose()
  }
}

async function serveUntilStopped(options: ServeOptions, signals: StopSignals): Promise<void> {
  const { args, env } = options
  // Any AEGIS_* value still `<paste …>` (a URL, the user token, …) is named, not misread.
  const placeholder = placeholderVariable(env)
  if (placeholder === 'AEGIS_MASTER_KEY')
    throw new StartupError('AEGIS_MASTER_KEY still holds a placeholder: set the real key')
  if (placeholder === 'AEGIS_AGENT_TOKEN')
    throw new StartupError(
      'AEGIS_AGENT_TOKEN still holds a placeholder: set the token from `aegis agent add`',
    )
  if (placeholder !== null)
    throw new StartupError(
      `${placeholder} still holds a placeholder: set the real value in the MCP host config`,
    )
  const config = loadConfig({
    cwd: options.cwd,
    env,
    file: args.config,
    overrides: { mcp: { transport: args.transport, port: args.port } },
  })
  const pgUrl = config.storage.postgres.url
  // On PostgreSQL the users live in the database: checked there, once the pool is open.
  if (pgUrl === undefined) authorizeServe(config.vault.data_dir, env.AEGIS_USER_TOKEN)
  const masterKey = keyOf(config.vault.data_dir, env, config.vault.master_key)
  if (masterKey === undefined || masterKey === '') {
    throw new StartupError(
      'AEGIS_MASTER_KEY is not set (set it in the MCP host config, or keep vault.master_key in a 0600 config file named by AEGIS_CONFIG)',
    )
  }
  // From the config file's vault.master_key (the environment's was checked above).
  if (isPlaceholder(masterKey))
    throw new StartupError('AEGIS_MASTER_KEY still holds a placeholder: set the real key')
  const agentToken = env.AEGIS_AGENT_TOKEN?.trim() || null

  const logger = pino(
    { level: config.observability.log_level, base: { service: 'aegis-mcp-server' } },
    pino.destination({ fd: 2, sync: true }),
  )
  const state =
    pgUrl === undefined
      ? openSqliteState(
          config.vault.data_dir,
          config.vault.name,
          masterKey,
          config.vault.salt,
          env.AEGIS_USER_TOKEN,
        )
      : await openPgState({
          config,
          url: pgUrl,
          masterKey,
          userToken: env.AEGIS_USER_TOKEN,
          logger,
          refuse: (message) => new StartupError(message),
        })
  const { vault, ledger } = state
  const vaultName = config.vault.name

  // Budgets shared with the gates when rate_limit.redis.url names a Redis (errors go to the log).
  const rateLimitStore = rateLimiterFromConfig(config, (error) =>
    logger.warn({ err: error.message }, 'shared rate limits: Redis error'),
  )
  let running: Awaited<ReturnType<typeof startMcp>>
  try {
    running = await startMcp({
      config,
      vault,
      ledger,
      logger,
      agentToken,
      version: options.version,
      rateLimitStore,
    })
  } catch (error) {
    await rateLimitStore?.close()
    await ledger.close()
    await state.close()
    throw error
  }
  if (running.url !== null)
    options.status(`Aegis MCP server listening on ${running.url} (vault "${vaultName}")`)
  else logger.info({ vault: vaultName }, 'Aegis MCP server on stdio')
  if (!config.gate.require_agent_auth && agentToken === null && running.transport === 'stdio') {
    logger.warn(
      'Agent authentication is off and AEGIS_AGENT_TOKEN is not set: this client may use every credential',
    )
  }

  // A newer aegis migrating the store under the server stops it, as it stops a gate: asked once a
  // second, never per call.
  let newer: string | null = null
  let schemaChanged: (reason: 'schema newer') => void = () => {}
  const changed = new Promise<'schema newer'>((resolve) => {
    schemaChanged = resolve
  })
  const schemaCheck = setInterval(() => {
    state.newerSchema().then(
      (found) => {
        if (found === null || newer !== null) return
        newer = found
        logger.error({ schema: found }, 'a newer aegis migrated the store under this MCP server: stopping')
        schemaChanged('schema newer')
      },
      () => {},
    )
  }, 1000)
  schemaCheck.unref()
  const signal = await Promise.race([
    signals.started(),
    running.done.then(() => 'input closed' as const),
    changed,
  ])
  clearInterval(schemaCheck)
  logger.info({ reason: signal }, 'shutting down')
  try {
    await running.close()
  } finally {
    await rateLimitStore?.close()
    await ledger.close()
    await state.close()
  }
  if (newer !== null) {
    throw new StartupError(
      `A newer aegis migrated the store under this MCP server (${newer}): stopped; upgrade aegis, then start it again`,
    )
  }
}

/**
 * SQLite: the vault file and the ledger file (refusals raise webhook events in the same
 * transaction; a running gate's relay delivers them).
 */
function openSqliteState(
  dataDir: string,
  name: string,
  masterKey: string,
  salt: string | undefined,
  userToken: string | undefined,
): ServerState {
  // AEGIS_SALT / vault.salt: the vault must have been created with it.
  const vault = openVault({
    dataDir,
    name,
    masterKey,
    ...(salt === undefined ? {} : { salt: saltFromText(salt) }),
  })
  try {
    // Checked before opening from the key-less hint; now the vault's sealed state says it too.
    authorizeServe(dataDir, userToken, () => vault.rbacSince())
    const ledger = openLedger({
      file: join(dataDir, 'ledger.db'),
      // Commits in a writer thread, off the event loop that serves the tool calls.
      writer: 'worker',
      checkpoint: 'background',
      extensions: [new Outbox()],
    })
    return {
      vault,
      ledger,
      newerSchema: async () => vault.newerSchema() ?? ledger.newerSchema(),
      close: async () => vault.close(),
    }
  } catch (error) {
    vault.close()
    throw error
  }
}

/**
 * Once the key is split (`aegis vault split`) only AEGIS_MASTER_KEY or a valid unsealed.key count,
 * as for the CLI; without either the server does not start: `Vault is sealed`.
 */
function keyOf(
  dataDir: string,
  env: Record<string, string | undefined>,
  configured: string | undefined,
): string | undefined {
  const custody = existsSync(dataDir) ? readCustody(dataDir) : null
  if (custody === null) return configured
  if (env.AEGIS_MASTER_KEY) return env.AEGIS_MASTER_KEY
  let key: Buffer | null
  try {
    key = readUnsealedKey(dataDir, custody)
  } catch (error) {
    throw new StartupError(`Vault is sealed: ${(error as Error).message}`)
  }
  if (key === null) {
    throw new StartupError(
      `Vault is sealed: unseal it with ${custody.threshold} of its ${custody.shares} key shares (aegis vault unseal, with --key-file while a gate runs: the gate keeps the key in its memory only), or set AEGIS_MASTER_KEY`,
    )
  }
  const text = key.toString('utf8')
  key.fill(0)
  return text
}

/**
 * RBAC, as `aegis mcp serve` has it: once the data directory has users, starting the server needs
 * the token of one allowed gate:start (AEGIS_USER_TOKEN), checked by @aegis/access before anything
 * is opened. No user is bootstrap only while RBAC was never turned on: the vault's key-less hint
 * says so before the vault is opened, its sealed state (`sealed`) once it is.
 */
function authorizeServe(dataDir: string, token: string | undefined, sealed?: () => string | null): void {
  const check = checkAccess({
    file: accessFile(dataDir),
    token,
    permission: 'gate:start',
    rbacSince: rbacRecord(dataDir, sealed),
  })
  if (!check.ok) throw new StartupError(accessRefusalLine(check))
}
