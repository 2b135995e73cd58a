import type { RateLimitStore } from '@aegis/guard'
import { EMPTY_POLICY_SET, type PolicySet, PolicyWatcher } from '@aegis/policy'
import { type AnonymousAccess, anonymousAccess, describeAnonymousAccess } from './anonymous.js'
import type { AuditSink } from './audit.js'
import type { Stage } from './embedder-stage.js'
import { GateEngine, type GateLimits } from './engine.js'
import { describeError } from './errors.js'
import { LedgerHealth } from './ledger-health.js'
import { type Logger, type RequestLogging, SILENT_LOGGER } from './logger.js'
import type { RequestObserver } from './observer.js'
import { PolicyAgentCheck } from './policy-agents.js'
import { type CredentialSource, LiveState, type Snapshot } from './snapshot.js'
import type { PolicyMode } from './types.js'
import { PinnedDispatchers } from './upstream/dispatcher.js'
import { AddressResolver, type LookupFunction, type ResolveEntry } from './upstream/resolve.js'

/** Everything the pipeline needs, whichever channel (HTTP gate, MCP server) feeds it. */
export interface PipelineOptions {
  /** The credential store; polled for changes, decrypted into memory once per change. */
  credentials: CredentialSource
  /** The audit ledger. Nothing is forwarded before its entry is committed here. */
  audit: AuditSink
  /** Where the gate logs (pino fits). Default: silent — a library never writes to stdout itself. */
  logger?: Logger
  /**
   * Which requests get an info line of their own: `refused` (default) logs refusals and failures,
   * `all` every forwarded request too, `off` none. Every request is in the ledger regardless; a
   * line per allowed request is a log shipper's business, and it costs the hot path.
   */
  logRequests?: RequestLogging
  limits?: Partial<GateLimits>
  upstream?: {
    /** Extra CA certificates (PEM contents) trusted for upstream TLS. */
    ca?: ReadonlyArray<string | Buffer>
    /** Static `host:port → address:port` overrides; trusted by the address guard. */
    resolve?: readonly ResolveEntry[]
    /** CIDRs that may be dialled although private. */
    allowPrivate?: readonly string[]
    /** Name resolution to use instead of the system resolver (e.g. a DNS-over-HTTPS client). */
    lookup?: LookupFunction
    /**
     * How long a resolved and checked name is reused, ms; 0 resolves it for every request.
     * Default 10 000, at most 300 000 (an answer's own `ttl`, when the lookup gives one, caps it).
     */
    dnsCacheTtl?: number
    /** Most names kept in that cache; the least recently used is dropped first. Default 1024. */
    dnsCacheSize?: number
    /** Connections per upstream address. Default 128. */
    connections?: number
  }
  /** How often the store's change token is compared, ms. Default 250. */
  pollIntervalMs?: number
  /** Refuse requests without an agent token (`X-Aegis-Agent`). A token that is sent is always checked. */
  requireAgentAuth?: boolean
  /**
   * Request header names never forwarded, beyond the built-in credential headers (`x-api-key`, …;
   * see `CREDENTIAL_REQUEST_HEADERS` in @aegis/guard). Case-insensitive.
   */
  stripRequestHeaders?: readonly string[]
  /**
   * The embedder's own checks, run in order AFTER every built-in security stage (identity, grants,
   * scopes, policy, destination, budgets, inspection) and before the ledger entry and forwarding.
   * Each returns nothing to continue or a guard `Refusal` (`refuse(code, detail)`) to stop; a
   * refusal is recorded and answered like a built-in one. The built-in stages cannot be removed
   * or reordered from here.
   */
  stages?: readonly Stage[]
  /**
   * Told how every request ended and when the credential snapshot changes (`@aegis/telemetry`'s
   * `createTelemetry()` fits). Both channels feed it from the same outcomes.
   */
  observer?: RequestObserver
  /**
   * Where rate budgets live. Default: this process. A store several gates share
   * (`@aegis/redis-rate-limit`) makes one limit hold across them; `failureMode` says what a request
   * that needs a budget gets while that store cannot answer: `closed` (default) refuses it
   * (`rate_limit_unavailable`, 503), `open` forwards it without that limit. Both are recorded.
   */
  rateLimits?: { store?: RateLimitStore; failureMode?: 'closed' | 'open' }
  /** YAML agent policies, hot-reloaded from `dir`. */
  policies?: {
    /** Where the policy files are; without one, every agent has no policy file. */
    dir?: string
    mode: PolicyMode
    /** What an agent without a policy file may do. Default allow (grants and scopes only). */
    defaultPolicy?: 'allow' | 'deny'
  }
}

/** A running pipeline: the engine plus the live credential state and connection pools it owns. */
export interface Pipeline {
  /** Runs canonical requests through the stages (what `@aegis/mcp` tools call). */
  readonly engine: GateEngine
  readonly logger: Logger
  /** What happens to requests without an agent token (logged by `start`). */
  readonly anonymous: AnonymousAccess
  /** Starts watching the store for changes (unref'd timers). Calling it again does nothing. */
  start(): void
  /** Re-reads the credential source now if its change token moved (the poller does this every 250 ms). */
  refresh(): void
  /** Stops watching and closes upstream connections. */
  close(): Promise<void>
}

export const DEFAULT_LIMITS: GateLimits = {
  maxBodySize: 1_048_576,
  requestTimeout: 30_000,
  agentMaxInFlight: 64,
}

/** Builds the one request pipeline. `createGate` and the MCP server both start here. */
export function createPipeline(options: PipelineOptions): Pipeline {
  const logger = options.logger ?? SILENT_LOGGER
  const limits: GateLimits = { ...DEFAULT_LIMITS, ...withoutUndefined(options.limits ?? {}) }
  // Without agents in the source there is no agent a policy could be meant for.
  const source = options.credentials
  const policyAgents = source.loadAgents
    ? new PolicyAgentCheck(logger, () => source.isSealed?.() === true)
    : null
  let policies: () => PolicySet = () => EMPTY_POLICY_SET
  const state = new LiveState({
    source: options.credentials,
    pollIntervalMs: options.pollIntervalMs,
    onReload: (snapshot) => {
      logCredentials(logger, snapshot)
      options.observer?.snapshotChanged(snapshot)
      policyAgents?.check(policies(), snapshot)
    },
    onError: (error) =>
      logger.error({ err: describeError(error) }, 'credential reload failed; serving the last good set'),
  })
  const dispatchers = new PinnedDispatchers({
    ca: options.upstream?.ca,
    connectTimeoutMs: limits.requestTimeout,
    connections: options.upstream?.connections,
  })
  const policyDir = options.policies?.dir
  const watcher =
    policyDir === undefined || options.policies?.mode === 'off'
      ? null
      : new PolicyWatcher(policyDir, {
          onReload: (set) => {
            logPolicies(logger, set)
            policyAgents?.check(set, state.current)
          },
          onError: (error) =>
            logger.error({ err: describeError(error) }, 'policy reload failed: affected agents are denied'),
        })
  if (watcher !== null) policies = () => watcher.current
  const ledgerHealth = new LedgerHealth(logger)
  const engine = new GateEngine({
    ledgerHealth,
    policy:
      options.policies === undefined
        ? undefined
        : {
            mode: options.policies.mode,
            defaultPolicy: options.policies.defaultPolicy ?? 'allow',
            current: watcher === null ? () => EMPTY_POLICY_SET : () => watcher.current,
          },
    requireAgentAuth: options.requireAgentAuth,
    stripRequestHeaders: options.stripRequestHeaders,
    stages: options.stages,
    observer: options.observer,
    limiter: options.rateLimits?.store,
    rateLimitFailureMode: options.rateLimits?.failureMode,
    state,
    audit: options.audit,
    logger,
    logRequests: options.logRequests ?? 'refused',
    limits,
    resolver: new AddressResolver({
      overrides: options.upstream?.resolve,
      allowPrivate: options.upstream?.allowPrivate,
      lookup: options.upstream?.lookup,
      dnsCacheTtl: options.upstream?.dnsCacheTtl,
      dnsCacheSize: options.upstream?.dnsCacheSize,
      // A lookup may take no longer than the upstream gets to answer.
      lookupTimeout: limits.requestTimeout,
    }),
    dispatchers,
  })
  const anonymous = anonymousAccess(options)
  let started = false
  const pipeline: Pipeline = {
    engine,
    logger,
    anonymous,
    start: () => {
      // Both `listen()` and the first `handle()` start it; the second call is a no-op.
      if (started) return
      started = true
      logger.info({ anonymous }, describeAnonymousAccess(anonymous))
      state.start()
      watcher?.start()
    },
    refresh: () => {
      state.refresh()
    },
    close: async () => {
      state.stop()
      watcher?.stop()
      await dispatchers.close()
    },
  }
  return pipeline
}

/**
 * Once per policy reload: the counts, then every error of every refused file, saying who is denied:
 * the file's agent, or, when no agent can be read from it, every agent without a valid policy (the
 * file might have been theirs). The second used to be logged as if only one agent were affected.
 */
function logPolicies(logger: Logger, set: PolicySet): void {
  logger.info({ policies: set.policies.size, broken: set.broken.size }, 'policies loaded')
  for (const entry of set.entries) {
    for (const error of entry.errors) {
      if (entry.agent === null) {
        logger.error(
          { policyError: error.message },
          'policy file refused, and it names no readable agent: every agent without a valid policy is denied everything until it is fixed',
        )
      } else {
        logger.error(
          { policyError: error.message, agent: entry.agent },
          'policy file refused: its agent is denied everything',
        )
      }
    }
  }
}

/**
 * Once per reload: the count, then every credential the gate refuses (a damaged row) or cannot
 * fully protect (a padded or short secret stored before the vault refused them), by name.
 */
function logCredentials(logger: Logger, snapshot: Snapshot): void {
  logger.info(
    { credentials: snapshot.byService.size, unavailable: snapshot.unavailable.size },
    'credentials loaded',
  )
  for (const u of snapshot.unavailable.values()) {
    logger.error(
      { credential: u.name, service: u.service, credentialId: u.id, reason: u.reason },
      'credential unavailable: its service is refused (credential_unavailable); the reason says why (aegis doctor checks stored rows)',
    )
  }
  for (const a of snapshot.unavailableAgents) {
    logger.error(
      { agent: a.name, agentId: a.id, reason: a.reason },
      'agent unavailable: its token is refused until the row is repaired (aegis doctor)',
    )
  }
  for (const a of snapshot.refusedGrants) {
    logger.error(
      { agent: a.name, agentId: a.id, credentialIds: a.refusedGrants },
      'grant refused: a stored grant to this agent fails its seal (added outside Aegis) and grants nothing (aegis doctor)',
    )
  }
  for (const w of snapshot.warnings) {
    logger.warn(
      { credential: w.name, service: w.service, problems: w.problems },
      'credential secret not fully protected by inspection and redaction: rotate it',
    )
  }
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}
