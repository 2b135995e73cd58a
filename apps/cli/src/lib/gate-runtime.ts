/**
 * Starting and stopping the gate, shared by `aegis gate` and `aegis dashboard` so both run it the
 * same way: the engine's state (`gate-state*.ts`: vault, ledger with the webhook outbox, users),
 * telemetry, the admin socket, the webhook relay, the "listening" line and the warnings, and the
 * shutdown order.
 */
import type { AegisConfig, ConfigOverrides } from '@aegis/config'
import type { LedgerStore } from '@aegis/ledger'
import {
  createGate,
  type Gate,
  type GateOptions,
  type ListeningAddress,
  pipelineOptionsFromConfig,
} from '@aegis/proxy'
import { anonymousAccessFromConfig, createAdminServer, readTlsPair } from '@aegis/proxy/internal'
import { createTelemetry } from '@aegis/telemetry'
import type { VaultStore } from '@aegis/vault'
import { Flags } from '@oclif/core'
import type { Logger } from 'pino'
import { bindFailureMessage } from './bind-error.js'
import { configExposure } from './config-exposure.js'
import { adminDir } from './custody.js'
import { CliError } from './errors.js'
import { openSqliteGateState } from './gate-state.js'
import { vaultKeyPrefetched } from './key-prefetch.js'
import { createLogger } from './logger.js'
import { assertPoliciesDir } from './policies-dir.js'
import { describeSharedLimits, openSharedLimits } from './rate-limits.js'
import { configuredSalt } from './salt.js'
import { upstreamFlags, upstreamOverrides } from './upstream-flags.js'
import { type GateWebhooks, startGateWebhooks } from './webhook-relay.js'
import { checkConfigWebhooks, syncConfigWebhooks } from './webhooks.js'

/** The flags of `aegis gate` (also accepted by `aegis dashboard`, whose `--port` is its own). */
export const gateFlags = {
  host: Flags.string({ description: 'Interface to bind (default 127.0.0.1)' }),
  port: Flags.integer({
    description: 'Port to listen on; 0 picks a free port (default 3100)',
    min: 0,
    max: 65535,
  }),
  tls: Flags.boolean({ description: 'Serve HTTPS (needs --cert and --key, or gate.tls in the config)' }),
  cert: Flags.string({ description: 'TLS certificate (PEM) for --tls' }),
  key: Flags.string({ description: 'TLS private key (PEM) for --tls' }),
  'require-agent-auth': Flags.boolean({
    description: 'Refuse requests without a valid X-Aegis-Agent token',
    allowNo: true,
  }),
  'policies-dir': Flags.string({ description: 'Folder of YAML agent policies (hot-reloaded)' }),
  'policy-mode': Flags.string({
    description: 'enforce: refuse; dry-run: forward and record what would be refused; off: ignore policies',
    options: ['enforce', 'dry-run', 'off'],
  }),
  ...upstreamFlags,
}

export interface GateFlagValues {
  host?: string | undefined
  port?: number | undefined
  tls?: boolean | undefined
  cert?: string | undefined
  key?: string | undefined
  'require-agent-auth'?: boolean | undefined
  'policies-dir'?: string | undefined
  'policy-mode'?: string | undefined
  'upstream-ca'?: string[] | undefined
  resolve?: string[] | undefined
}

/** The `gate` config overrides for the gate flags. */
export function gateOverrides(flags: GateFlagValues): NonNullable<ConfigOverrides['gate']> {
  return {
    host: flags.host,
    port: flags.port,
    tls:
      flags.tls || flags.cert || flags.key
        ? { enabled: flags.tls || undefined, cert: flags.cert, key: flags.key }
        : undefined,
    require_agent_auth: flags['require-agent-auth'],
    policies_dir: flags['policies-dir'],
    policy_mode: flags['policy-mode'] as 'enforce' | 'dry-run' | 'off' | undefined,
    upstream: upstreamOverrides(flags),
  }
}

export interface GateRuntimeOptions {
  config: AegisConfig
  dataDir: string
  vaultName: string
  /** The master key as the command resolves it (throws when none is at hand). */
  masterKey: () => string
  /** The CLI's version, for telemetry. */
  version: string
  /** One line on stdout; one warning on stderr. */
  log: (line: string) => void
  warn: (line: string) => void
  /** The flag that sets the gate's port in this command (`--port`, `--gate-port` for the dashboard). */
  portFlag: string
}

/** A running gate. `stop` runs the shutdown order once; later calls return the same promise. */
export interface GateRuntime {
  readonly address: ListeningAddress
  readonly engine: 'sqlite' | 'postgres'
  readonly vault: {
    readonly name: string
    isSealed(): boolean
    rbacSince(): string | null
    /** The vault with the key the gate holds, for the dashboard beside it (see `GateState`). */
    openStore?(): VaultStore
  }
  readonly ledger: LedgerStore
  readonly logger: Logger
  /** What the gate's `/_aegis/health` answers now. */
  health: Gate['health']
  /**
   * Resolves (never rejects) with the reason when the gate must stop by itself: a newer aegis
   * migrated a store under it (`SCHEMA_CHECK_MS`). The command then stops it and exits 1.
   */
  readonly mustStop: Promise<string>
  stop(): Promise<void>
}

/**
 * How often a running gate asks whether a newer aegis migrated its stores. A gate that kept
 * writing rows in its own layout into a newer schema could write what the newer release misreads;
 * it stops instead (after draining), and a restart of this release is refused until it is upgraded.
 */
const SCHEMA_CHECK_MS = 1000

/**
 * Starts the gate and its admin socket and prints `Aegis gate listening on <url> (vault "<name>")`
 * plus the warnings `aegis gate` has always printed. The engine (`storage.postgres.url` or the
 * SQLite files) only changes what `GateState` holds. A failure closes what was opened and throws
 * a CliError.
 */
export async function startGateRuntime(options: GateRuntimeOptions): Promise<GateRuntime> {
  const { config, dataDir } = options
  const gateConfig = config.gate
  assertPoliciesDir(gateConfig.policies_dir)
  const logger = createLogger(config)
  // doctor and config validate fail on it; a gate that is started anyway says so where it is watched.
  const exposure = configExposure(config)
  if (exposure !== null) logger.warn(`the config file exposes a secret to other users: ${exposure}`)
  const pgUrl = config.storage.postgres.url
  // The vault key bin/run.js started deriving (lib/key-prefetch.ts): the SQLite state opens with it.
  await vaultKeyPrefetched()
  // The PostgreSQL state (pg, drizzle's pg-core, the change feed) loads only when configured.
  const state =
    pgUrl === undefined
      ? openSqliteGateState({ ...options, salt: configuredSalt(config) })
      : await (await import('./gate-state-pg.js')).openPgGateState({ ...options, url: pgUrl, config, logger })
  const { vault, outbox } = state
  // Budgets in Redis when rate_limit.redis.url names one (shared with the other gates).
  const sharedLimits = await openSharedLimits(config, logger).catch(async (error: unknown) => {
    await state.close()
    throw error
  })
  const observability = config.observability
  // One registry for this gate: it counts the pipeline's outcomes and is served at /_aegis/metrics.
  const telemetry = observability.metrics
    ? createTelemetry({ version: options.version, agentLabel: observability.metrics_agent_label })
    : undefined
  telemetry?.watchSealed(() => vault.isSealed())
  let gateOptions: GateOptions
  // Config-file webhooks need the vault key (their secrets are stored sealed): registered at the
  // start, or, for a gate started sealed, at its first unseal.
  let configWebhooksPending = config.webhooks.length > 0
  try {
    gateOptions = {
      ...pipelineOptionsFromConfig(config, { credentials: state.credentials, audit: state.audit, logger }),
      observer: telemetry,
      metrics: telemetry,
      metricsToken: observability.metrics_token,
      host: gateConfig.host,
      port: gateConfig.port,
      tls: gateConfig.tls.enabled
        ? readTlsPair(gateConfig.tls.cert ?? '', gateConfig.tls.key ?? '')
        : undefined,
    }
    gateOptions.limits = { ...gateOptions.limits, shutdownTimeout: gateConfig.shutdown_timeout }
    gateOptions.rateLimits = { ...gateOptions.rateLimits, store: sharedLimits }
    if (!vault.isSealed()) {
      await syncConfigWebhooks(outbox, config, (purpose, secret) => vault.sealSecret(purpose, secret))
      configWebhooksPending = false
    } else if (config.webhooks.length > 0) {
      checkConfigWebhooks(config)
      logger.warn('the vault is sealed: webhooks from the config file are registered once it is unsealed')
    }
  } catch (error) {
    await sharedLimits?.close()
    await state.close()
    throw error
  }
  const gate = createGate(gateOptions)
  // Started once the gate listens (below); the admin socket's unseal reaches it from then on.
  let webhooks: GateWebhooks | undefined
  // A failure (the ledger file unwritable) is logged; the next unseal call tries again.
  const registerConfigWebhooks = async () => {
    try {
      const ids = await syncConfigWebhooks(outbox, config, (purpose, secret) =>
        vault.sealSecret(purpose, secret),
      )
      configWebhooksPending = false
      logger.info({ webhooks: ids.length }, 'webhooks from the config file registered')
    } catch (error) {
      logger.error({ err: String(error) }, 'webhooks from the config file could not be registered')
    }
  }
  // The admin channel only wires the vault to the socket protocol.
  const handlers = state.adminHandlers(() => gate.refresh())
  const admin = createAdminServer({
    dir: adminDir(dataDir),
    authorize: state.adminAuthorize,
    logger,
    handlers: {
      ...handlers,
      unseal: async (share, caller) => {
        const wasSealed = vault.isSealed()
        const status = await handlers.unseal(share, caller)
        if (!status.sealed && configWebhooksPending) await registerConfigWebhooks()
        // What a start with the key does at once: a sealed gate had no credentials to check.
        if (wasSealed && !status.sealed) void webhooks?.checkExpiry()
        return status
      },
    },
  })

  const abort = async (message: string): Promise<never> => {
    await gate.close()
    await sharedLimits?.close()
    await state.close()
    throw new CliError(message)
  }
  let address: ListeningAddress
  try {
    address = await gate.listen()
    await state.watch(() => gate.refresh())
  } catch (error) {
    return abort(bindFailureMessage(error, config.gate.port, { flag: options.portFlag, key: 'gate.port' }))
  }
  let socket: string | null = null
  try {
    socket = await admin.listen()
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error)
    // A sealed gate without its channel could never be unsealed; an unsealed one still serves,
    // but `vault seal` cannot reach it (e.g. a data dir path too long for a Unix socket).
    if (vault.isSealed()) {
      return abort(
        `Cannot open the admin socket in ${adminDir(dataDir)}, so this sealed gate could never be unsealed: ${why}`,
      )
    }
    options.warn(`No admin socket (${why}): aegis vault seal and unseal cannot reach this gate`)
  }
  webhooks = startGateWebhooks({
    outbox,
    ledger: state.ledger,
    vault,
    config,
    logger,
    telemetry,
  })
  options.log(`Aegis gate listening on ${address.url} (vault "${vault.name}")`)
  if (pgUrl !== undefined) {
    const { pgWhere } = await import('./postgres.js')
    options.log(
      `State shared through PostgreSQL at ${pgWhere(pgUrl)} (changes from other gates and CLIs arrive within a second)`,
    )
  }
  const shared = await describeSharedLimits(sharedLimits, config)
  if (shared !== null) {
    options.log(shared.info)
    if (shared.warning !== null) options.warn(shared.warning)
  }
  if (vault.isSealed()) {
    options.warn(
      `The vault is sealed: every request is refused (503 sealed) until aegis vault unseal sends the key shares to ${socket}`,
    )
  }
  // The pipeline logs which rule applies to requests without a token; warn when it lets them in.
  const anonymous = anonymousAccessFromConfig(config)
  if (anonymous === 'open') {
    options.warn(
      'Agent authentication is off: any local process can use these credentials (enable with --require-agent-auth)',
    )
  } else if (anonymous === 'policy-records') {
    options.warn(
      'Agent authentication is off and policies are in dry-run: requests without a token are forwarded and recorded as agent_auth_required',
    )
  }

  let stopFor: (reason: string) => void = () => {}
  const mustStop = new Promise<string>((resolve) => {
    stopFor = resolve
  })
  const schemaCheck = setInterval(() => {
    state.newerSchema().then(
      (newer) => {
        if (newer === null) return
        clearInterval(schemaCheck)
        logger.error(
          { schema: newer },
          'a newer aegis migrated the store under this gate: stopping (upgrade aegis, then start the gate again)',
        )
        stopFor(
          `A newer aegis migrated the store under this gate (${newer}): stopped; upgrade aegis, then start it again`,
        )
      },
      // The store away: the ledger and the feed report it (and refuse); the next round asks again.
      () => {},
    )
  }, SCHEMA_CHECK_MS)
  schemaCheck.unref()

  let stopped: Promise<void> | null = null
  const stop = (): Promise<void> => {
    clearInterval(schemaCheck)
    stopped ??= admin
      .close()
      .then(() => gate.close())
      .then(() => webhooks?.stop())
      .then(() => sharedLimits?.close())
      .catch((error: unknown) => logger.error({ err: String(error) }, 'shutdown failed'))
      .then(() => state.close())
      .catch((error: unknown) => logger.error({ err: String(error) }, 'shutdown failed'))
      .finally(() => {
        logger.flush?.()
      })
    return stopped
  }
  return {
    address,
    engine: state.engine,
    vault,
    ledger: state.ledger,
    logger,
    health: gate.health,
    mustStop,
    stop,
  }
}
