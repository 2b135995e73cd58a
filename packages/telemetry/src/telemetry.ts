import { Counter, Gauge, type Metric, Registry } from 'prom-client'
import { defaultMetrics } from './defaults.js'
import { counterFamily, type Family, Hist, histogramFamily, type Labels, Tally } from './families.js'
import {
  ANONYMOUS_AGENT,
  codeLabel,
  DECISION_INDEX,
  DECISIONS,
  methodLabel,
  RATE_LIMIT_SCOPES,
  STATUS_CLASSES,
  statusClassIndex,
  UNKNOWN_SERVICE,
} from './labels.js'
import type { ObservedRequest, ObservedSnapshot, WebhookQueue, WebhookResult } from './types.js'

const WEBHOOK_RESULTS: readonly WebhookResult[] = ['succeeded', 'retry', 'dead', 'disabled']

/** Request and upstream durations: up to `gate.request_timeout`'s 30 s default and past it. */
export const DURATION_BUCKETS: readonly number[] = [
  0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 80,
]
/** Body sizes: 1 KiB to 256 MiB, ×4. */
export const BYTE_BUCKETS: readonly number[] = Array.from({ length: 10 }, (_, i) => 1024 * 4 ** i)

const DAY_MS = 86_400_000

export interface TelemetryOptions {
  /** Reported by `aegis_build_info{version}` (the app's version). */
  version: string
  /**
   * Adds an `agent` label to `aegis_requests_total`: registered agent names only, `_anonymous` for
   * requests without one (`observability.metrics_agent_label`). Default false.
   */
  agentLabel?: boolean
  /** A credential expiring within this many days is `expiring_soon`. Default 7. */
  expiringSoonDays?: number
  /** Include the process and Node metrics (`process_*`, `nodejs_*`). Default true. */
  processMetrics?: boolean
}

/** The series of one configured service; dropped whole when its credential goes. */
class ServiceSeries {
  /** decision index → code → method → agent ('' without the agent label) → counter. */
  readonly requests: Map<string, Map<string, Map<string, Tally>>>[] = [new Map(), new Map(), new Map()]
  readonly duration: (Hist | undefined)[] = [undefined, undefined, undefined]
  upstream: Hist | undefined
  requestBytes: Hist | undefined
  responseBytes: Hist | undefined
  readonly responses: (Tally | undefined)[] = STATUS_CLASSES.map(() => undefined)
  readonly labels: Labels

  constructor(readonly service: string) {
    this.labels = { service }
  }
}

/**
 * Prometheus metrics for one gate or MCP server, in a registry of its own (two gates in one
 * process never share or collide). Pass it to the pipeline as `observer` and to `createGate` as
 * `metrics`. Every label value is bounded: services from the configured credentials, agents from
 * the registered ones, methods and codes from fixed lists.
 */
export class Telemetry {
  /** This instance's private registry (served at `/_aegis/metrics`). */
  readonly registry: Registry
  readonly contentType: string
  readonly #agentLabel: boolean
  readonly #soonMs: number
  #services = new Map<string, ServiceSeries>()
  readonly #unknown = new ServiceSeries(UNKNOWN_SERVICE)
  #agents: ReadonlySet<string> = new Set()
  #snapshot: ObservedSnapshot | null = null
  #inflight = 0
  readonly #rateLimited: readonly Tally[] = RATE_LIMIT_SCOPES.map((scope) => new Tally({ scope }))
  /** Per scope: [refused, passed] — budgets the shared store (Redis) could not check. */
  readonly #unavailable: readonly (readonly [Tally, Tally])[] = RATE_LIMIT_SCOPES.map(
    (scope) => [new Tally({ scope, outcome: 'refused' }), new Tally({ scope, outcome: 'passed' })] as const,
  )
  readonly #ledgerErrors: Counter
  readonly #webhookAttempts = new Map<WebhookResult, Tally>(
    WEBHOOK_RESULTS.map((result) => [result, new Tally({ result })]),
  )
  #webhooks: WebhookQueue | null = null
  #sealed: (() => boolean) | null = null

  constructor(options: TelemetryOptions) {
    this.#agentLabel = options.agentLabel ?? false
    this.#soonMs = (options.expiringSoonDays ?? 7) * DAY_MS
    const registry = new Registry()
    this.registry = registry
    this.contentType = registry.contentType
    if (options.processMetrics ?? true) for (const metric of defaultMetrics()) registry.registerMetric(metric)

    const series = () => this.#allSeries()
    const families: Family[] = [
      counterFamily(
        'aegis_requests_total',
        'Requests the pipeline decided, by service, method, decision and problem code',
        () => this.#requestTallies(),
      ),
      histogramFamily('aegis_request_duration_seconds', 'Time from arrival to the recorded outcome', () =>
        collect(series(), (s) => s.duration),
      ),
      histogramFamily(
        'aegis_upstream_duration_seconds',
        'Time from forwarding to the upstream response headers',
        () => collect(series(), (s) => [s.upstream]),
      ),
      counterFamily('aegis_upstream_responses_total', 'Upstream responses by status class', () =>
        collect(series(), (s) => s.responses),
      ),
      histogramFamily('aegis_request_bytes', 'Request body bytes sent upstream', () =>
        collect(series(), (s) => [s.requestBytes]),
      ),
      histogramFamily('aegis_response_bytes', 'Response body bytes delivered to the agent', () =>
        collect(series(), (s) => [s.responseBytes]),
      ),
      counterFamily(
        'aegis_rate_limited_total',
        'Requests refused by a rate or concurrency budget, by whose budget',
        () => this.#rateLimited,
      ),
      counterFamily(
        'aegis_rate_limit_unavailable_total',
        'Budgets the shared rate-limit store (Redis) could not check, by scope and what the request got',
        () => this.#unavailable.flat(),
      ),
      counterFamily('aegis_webhook_deliveries_total', 'Webhook delivery attempts by result', () =>
        this.#webhookAttempts.values(),
      ),
    ]
    for (const family of families) registry.registerMetric(family as unknown as Metric)

    const telemetry = this
    new Gauge({
      name: 'aegis_inflight_requests',
      help: 'Requests in the pipeline or being delivered',
      registers: [registry],
      collect() {
        this.set(telemetry.#inflight)
      },
    })
    new Gauge({
      name: 'aegis_credentials',
      help: 'Configured credentials by status',
      labelNames: ['status'],
      registers: [registry],
      collect() {
        const counts = telemetry.#credentialCounts(Date.now())
        for (const [status, count] of Object.entries(counts)) this.set({ status }, count)
      },
    })
    this.#ledgerErrors = new Counter({
      name: 'aegis_ledger_write_errors_total',
      help: 'Ledger writes the pipeline waited for that failed (the request was refused)',
      registers: [registry],
    })
    new Gauge({
      name: 'aegis_webhook_queue_depth',
      help: 'Webhook deliveries pending or in flight',
      registers: [registry],
      async collect() {
        // A depth the database cannot tell now (PostgreSQL away) keeps the last one it told.
        try {
          this.set(await (telemetry.#webhooks?.queueDepth() ?? 0))
        } catch {}
      },
    })
    new Counter({
      name: 'aegis_webhook_dropped_total',
      help: 'Pending webhook deliveries cancelled because their endpoint queue was full',
      registers: [registry],
      collect() {
        const dropped = telemetry.#webhooks?.counters.dropped ?? 0
        this.reset()
        this.inc(dropped)
      },
    })
    new Gauge({
      name: 'aegis_sealed',
      help: 'Whether the vault is sealed (1: every proxied request is refused until an unseal)',
      registers: [registry],
      collect() {
        this.set(telemetry.#sealed?.() ? 1 : 0)
      },
    })
    new Gauge({
      name: 'aegis_build_info',
      help: 'Always 1: the running version',
      labelNames: ['version', 'node_version'],
      registers: [registry],
    }).set({ version: options.version, node_version: process.version }, 1)
  }

  /** The exposition text (`contentType`). */
  render(): Promise<string> {
    return this.registry.metrics()
  }

  requestStarted(): void {
    this.#inflight++
  }

  requestEnded(record: ObservedRequest): void {
    this.#inflight--
    // A request that started under an older snapshot counts as unknown once its service is gone,
    // so a removed credential's series never come back.
    const s = (record.service === null ? undefined : this.#services.get(record.service)) ?? this.#unknown
    const d = DECISION_INDEX[record.decision]
    this.#tally(s, d, codeLabel(record.code), methodLabel(record.method), this.#agentOf(record)).value++
    let duration = s.duration[d]
    if (duration === undefined) {
      duration = new Hist({ service: s.service, decision: DECISIONS[d] as string }, DURATION_BUCKETS)
      s.duration[d] = duration
    }
    duration.observe(record.durationSeconds)
    if (record.rateLimit !== null && record.code === 'rate_limited') {
      const tally = this.#rateLimited[RATE_LIMIT_SCOPES.indexOf(record.rateLimit)]
      if (tally !== undefined) tally.value++
    }
    const upstream = record.upstream
    if (upstream === null) return
    s.upstream ??= new Hist(s.labels, DURATION_BUCKETS)
    s.upstream.observe(upstream.seconds)
    s.requestBytes ??= new Hist(s.labels, BYTE_BUCKETS)
    s.requestBytes.observe(upstream.bytesIn)
    s.responseBytes ??= new Hist(s.labels, BYTE_BUCKETS)
    s.responseBytes.observe(upstream.bytesOut)
    const c = statusClassIndex(upstream.status)
    if (c === -1) return
    let responses = s.responses[c]
    if (responses === undefined) {
      responses = new Tally({ service: s.service, status_class: STATUS_CLASSES[c] as string })
      s.responses[c] = responses
    }
    responses.value++
  }

  /** A budget the shared store could not check: the request was refused, or passed (`failure_mode: open`). */
  rateLimitUnavailable(scope: (typeof RATE_LIMIT_SCOPES)[number], passed: boolean): void {
    const pair = this.#unavailable[RATE_LIMIT_SCOPES.indexOf(scope)]
    if (pair !== undefined) pair[passed ? 1 : 0].value++
  }

  /** One recorded webhook attempt: how it ended. */
  webhookAttempted(result: WebhookResult): void {
    const tally = this.#webhookAttempts.get(result)
    if (tally !== undefined) tally.value++
  }

  /** The outbox whose depth and drops are read at scrape time (the gate's). */
  watchWebhooks(queue: WebhookQueue): void {
    this.#webhooks = queue
  }

  /** Whether the vault is sealed now, read at scrape time (the gate's; a gate that never seals has none). */
  watchSealed(isSealed: () => boolean): void {
    this.#sealed = isSealed
  }

  ledgerWriteFailed(): void {
    this.#ledgerErrors.inc()
  }

  /**
   * The credentials and agents that exist now: a removed credential's series go (all of them), and
   * with the agent label a removed agent's.
   */
  snapshotChanged(snapshot: ObservedSnapshot): void {
    this.#snapshot = snapshot
    const next = new Map<string, ServiceSeries>()
    for (const credential of snapshot.byService.values()) {
      const service = credential.service
      next.set(service, this.#services.get(service) ?? new ServiceSeries(service))
    }
    this.#services = next
    if (!this.#agentLabel) return
    const agents = new Set<string>()
    for (const agent of snapshot.agentsByHash.values()) agents.add(agent.name)
    const removed = [...this.#agents].filter((name) => !agents.has(name))
    this.#agents = agents
    if (removed.length === 0) return
    for (const s of this.#allSeries()) {
      for (const byCode of s.requests) {
        for (const byMethod of byCode.values()) {
          for (const byAgent of byMethod.values()) for (const name of removed) byAgent.delete(name)
        }
      }
    }
  }

  #agentOf(record: ObservedRequest): string {
    if (!this.#agentLabel) return ''
    return record.agent !== null && this.#agents.has(record.agent) ? record.agent : ANONYMOUS_AGENT
  }

  /** The counter for one label set, made on first use and kept (no label string per request). */
  #tally(s: ServiceSeries, d: number, code: string, method: string, agent: string): Tally {
    const byCode = s.requests[d] as Map<string, Map<string, Map<string, Tally>>>
    let byMethod = byCode.get(code)
    if (byMethod === undefined) {
      byMethod = new Map()
      byCode.set(code, byMethod)
    }
    let byAgent = byMethod.get(method)
    if (byAgent === undefined) {
      byAgent = new Map()
      byMethod.set(method, byAgent)
    }
    let tally = byAgent.get(agent)
    if (tally === undefined) {
      const decision = DECISIONS[d] as string
      tally = new Tally(
        this.#agentLabel
          ? { service: s.service, method, decision, code, agent }
          : { service: s.service, method, decision, code },
      )
      byAgent.set(agent, tally)
    }
    return tally
  }

  *#allSeries(): Iterable<ServiceSeries> {
    yield* this.#services.values()
    yield this.#unknown
  }

  *#requestTallies(): Iterable<Tally> {
    for (const s of this.#allSeries()) {
      for (const byCode of s.requests) {
        for (const byMethod of byCode.values()) {
          for (const byAgent of byMethod.values()) yield* byAgent.values()
        }
      }
    }
  }

  #credentialCounts(now: number): Record<'active' | 'expiring_soon' | 'expired' | 'unavailable', number> {
    const counts = { active: 0, expiring_soon: 0, expired: 0, unavailable: 0 }
    const snapshot = this.#snapshot
    if (snapshot === null) return counts
    for (const { expiresAt } of snapshot.byService.values()) {
      if (expiresAt === null || expiresAt > now + this.#soonMs) counts.active++
      else if (expiresAt > now) counts.expiring_soon++
      else counts.expired++
    }
    counts.unavailable = snapshot.unavailable.size
    return counts
  }
}

function* collect<T>(
  series: Iterable<ServiceSeries>,
  pick: (s: ServiceSeries) => readonly (T | undefined)[],
): Iterable<T> {
  for (const s of series) for (const item of pick(s)) if (item !== undefined) yield item
}

/** Metrics for one gate or MCP server (see `Telemetry`). */
export function createTelemetry(options: TelemetryOptions): Telemetry {
  return new Telemetry(options)
}
