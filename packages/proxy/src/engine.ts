import type { Readable } from 'node:stream'
import {
  type ProblemDocument,
  problemDocument,
  RateLimiter,
  type RateLimitStore,
  REFUSAL_STATUS,
  type Refusal,
  refuse,
} from '@aegis/guard'
import { ANONYMOUS_UNDER_POLICY } from './anonymous.js'
import { type AuditSink, auditEntry, safeMethod, safePath, safeService, safeTargetHost } from './audit.js'
import { createContext, type RequestContext } from './context.js'
import type { Stage as EmbedderStage } from './embedder-stage.js'
import {
  CLIENT_CLOSED,
  describeError,
  isConnectFailure,
  ledgerFailureReason,
  upstreamFailure,
} from './errors.js'
import { Forwarded, type RequestLog } from './forwarded.js'
import { type HealthReport, healthReport } from './health.js'
import { InFlight } from './in-flight.js'
import type { LedgerHealth } from './ledger-health.js'
import { loggable } from './loggable.js'
import { type Logger, logsAt, type RequestLogging } from './logger.js'
import type { RequestObserver } from './observer.js'
import { runStages, type Stage, type SyncStage } from './pipeline.js'
import { dryRunFields, errorFields, giveBack, release, requestRecord } from './request-end.js'
import type { LiveState } from './snapshot.js'
import { address } from './stages/address.js'
import { agentLimits } from './stages/agent-limits.js'
import { bodySize } from './stages/body-size.js'
import { Budgets, type RateLimitFailureMode } from './stages/budget.js'
import { expiry } from './stages/expiry.js'
import { grant, identity } from './stages/identity.js'
import { DECODE_FACTOR, inspection } from './stages/inspect.js'
import { method } from './stages/method.js'
import { type PolicyStageOptions, policy } from './stages/policy.js'
import { credentialRate } from './stages/rate.js'
import { route } from './stages/route.js'
import { scope } from './stages/scope.js'
import { sealed } from './stages/sealed.js'
import { service } from './stages/service.js'
import { target } from './stages/target.js'
import type { GateRequest } from './types.js'
import type { PinnedDispatchers } from './upstream/dispatcher.js'
import {
  ClientAbandonedError,
  type ForwardLimits,
  forward,
  type UpstreamResponse,
} from './upstream/forward.js'
import { type RedactedResponse, redactResponse } from './upstream/redact-response.js'
import type { AddressResolver } from './upstream/resolve.js'

export interface GateLimits {
  /** Largest request body forwarded, in bytes. */
  maxBodySize: number
  /** Requests one agent may have in flight at once (an agent's own setting wins). */
  agentMaxInFlight: number
  /** Upstream deadline in ms (see the interface contract §6). */
  requestTimeout: number
}

export interface EngineOptions {
  state: LiveState
  audit: AuditSink
  logger: Logger
  /** Which requests get an info line (default `refused`: refusals and failures). */
  logRequests?: RequestLogging
  limits: GateLimits
  resolver: AddressResolver
  dispatchers: PinnedDispatchers
  /** Refuse requests that carry no agent token. */
  requireAgentAuth?: boolean
  /** Policy enforcement; no policies when absent. */
  policy?: PolicyStageOptions
  /**
   * Where rate budgets are kept: this process (default) or a store several gates share (Redis),
   * which may answer later or not at all — see `rateLimitFailureMode`.
   */
  limiter?: RateLimitStore
  /**
   * A request that needs a budget while a shared store cannot answer: `closed` (default) refuses
   * it (`rate_limit_unavailable`, 503), `open` lets it through without that limit.
   */
  rateLimitFailureMode?: RateLimitFailureMode
  /** Extra request header names never forwarded (`gate.strip_request_headers`). */
  stripRequestHeaders?: readonly string[]
  /** The embedder's stages: appended after the built-in ones, never instead of them. */
  stages?: readonly EmbedderStage[]
  /** Told how every request ended (metrics); both channels' requests pass here. */
  observer?: RequestObserver
  /** Told whether each ledger write succeeded (the health answer reports it). */
  ledgerHealth?: LedgerHealth
}

/** The request was refused (or failed upstream): send this problem document. */
export interface RefusedOutcome {
  kind: 'refused'
  refusal: Refusal
  status: number
  problem: ProblemDocument
}

/** The upstream answered: stream `body` to the agent, then call `finish`. */
export interface ForwardedOutcome {
  kind: 'forwarded'
  status: number
  headers: Record<string, string | string[]>
  /** The body as a stream (for a small body, made on first use from `parts`). */
  readonly body: Readable
  /** A small body, whole and already redacted (in the parts it arrived in), or null when it streams. */
  parts: readonly Buffer[] | null
  /**
   * Records how delivery ended. `code` names a failure the adapter detected itself (e.g. a
   * response too large for the channel: one of guard's `DELIVERY_CODES`, which the metrics know;
   * any other is counted as `other`); otherwise an `error` is an upstream or client failure.
   */
  finish(result: { bytesOut: number; error?: unknown; code?: string }): void
  /**
   * The service the agent named and the upstream its bare path reaches, when this answer came from
   * that upstream (and not from another host an `X-Target-Host` chose): what the answer's links to
   * the upstream can be rebased onto (`rebaseLinkHeaders`).
   */
  upstream(): AnswerUpstream | null
}

/** See `ForwardedOutcome.upstream`. */
export interface AnswerUpstream {
  service: string
  host: string
  port: number
}

export type Outcome = RefusedOutcome | ForwardedOutcome

/** The stand-in request a discovery call is authenticated as. */
const DISCOVERY_REQUEST: GateRequest = {
  id: 'discovery',
  channel: 'mcp',
  receivedAt: 0,
  method: 'GET',
  target: '/',
  rawHeaders: [],
  agentToken: null,
  targetHost: null,
  contentLength: null,
  body: null,
  clientAddress: null,
}

const SEALED_DISCOVERY = refuse('sealed', 'The vault is sealed: no service can be used until it is unsealed')

/** What an agent may know about a service: never a secret. */
export interface ServiceSummary {
  name: string
  service: string
  domains: string[]
  scopes: string[]
}

/**
 * Channel-agnostic core of the gate: runs the pipeline for one canonical request, records it,
 * forwards it, and hands the adapter either a problem document or the upstream's response.
 */
/**
 * What ties a request in the engine to its channel's client, for `GateEngine.abandon`: one per
 * request, made by the channel (a plain object, so the engine keeps no map of requests).
 */
export class ClientLink {
  /** The client went away. */
  gone = false
  /** @internal The request's context while the engine holds it. */
  ctx: RequestContext | null = null
}

export class GateEngine {
  readonly #options: EngineOptions
  readonly #stages: readonly Stage[]
  readonly #identity: SyncStage
  readonly #strip: ReadonlySet<string>
  /** What `forward` is given for every request: made once. */
  readonly #forwardLimits: ForwardLimits
  /** Which outcomes get a line: decided once, not per request. */
  readonly #requestLog: RequestLog

  constructor(options: EngineOptions) {
    this.#options = options
    const logging = options.logRequests ?? 'refused'
    this.#requestLog = { logger: options.logger, allowed: logging === 'all', failed: logging !== 'off' }
    for (const [i, stage] of (options.stages ?? []).entries()) {
      if (typeof stage !== 'function')
        throw new TypeError(`stages[${i}] must be a function (ctx) => Refusal | undefined`)
    }
    this.#strip = new Set((options.stripRequestHeaders ?? []).map((name) => name.toLowerCase()))
    this.#forwardLimits = {
      maxBodySize: options.limits.maxBodySize,
      requestTimeoutMs: options.limits.requestTimeout,
      stripHeaders: this.#strip,
    }
    const budgets = new Budgets(
      options.limiter ?? new RateLimiter(),
      options.rateLimitFailureMode ?? 'closed',
      options.observer,
    )
    const inFlight = new InFlight()
    this.#identity = identity(options.requireAgentAuth ?? false)
    // Cheap refusals first, then every budget (taken in one synchronous run with its check), and
    // only then the expensive work: a request an agent may not make, or has no budget for, never
    // costs a DNS lookup or a body read and decode (issue 11: a 1/min agent's 15-byte brotli
    // bombs, 8 MiB each, were decoded before its limit refused them). A request refused after its
    // budget was taken gets it back (`giveBack`).
    this.#stages = [
      route,
      // After route only so the ledger row names the service the agent asked for.
      sealed(options.state),
      this.#identity,
      service,
      grant,
      expiry,
      method,
      scope,
      ...(options.policy ? [policy(budgets, options.policy)] : []),
      target,
      bodySize(options.limits.maxBodySize),
      agentLimits(budgets, inFlight, options.limits.agentMaxInFlight),
      credentialRate(budgets),
      address(options.resolver),
      inspection(options.limits.maxBodySize, this.#strip),
      // Copied, so the embedder's array cannot change the pipeline after construction.
      ...(options.stages ?? []),
    ]
  }

  /**
   * The channel's client went away before its answer (the gate: the connection closed before a
   * response head was written); `link` is the one given to `process`. A request still being decided
   * is not forwarded; one waiting for the upstream's answer is given up, the upstream request
   * aborted (an LLM call stops billing); either way the agent's in-flight slot is free at once. Its
   * row says `failed`, `client_closed`. No-op once the answer has started.
   */
  abandon(link: ClientLink): void {
    link.gone = true
    const ctx = link.ctx
    if (ctx === null || ctx.abandoned) return
    ctx.abandoned = true
    // Nothing more goes upstream for it: its in-flight slot is free now, not when a stage still
    // deciding it (an embedder's, a shared rate limit's round trip) gets round to finishing.
    release(ctx)
    ctx.exchange?.fail(new ClientAbandonedError())
  }

  /**
   * Runs the request through the pipeline and, when every stage passes, forwards it (its ledger row
   * written first). `link`: how the channel can `abandon` it later, if its client goes away.
   */
  async process(req: GateRequest, link?: ClientLink): Promise<Outcome> {
    this.#options.observer?.requestStarted()
    const ctx = createContext(req, this.#options.state.current, Date.now())
    if (link !== undefined) {
      link.ctx = ctx
      ctx.abandoned = link.gone
    }
    let refusal: Refusal | undefined
    try {
      const deciding = runStages(this.#stages, ctx)
      refusal = deciding instanceof Promise ? await deciding : deciding
    } catch (error) {
      // A stage that throws is a bug or a broken stream; the request still gets its ledger entry.
      this.#options.logger.error({ reqId: req.id, err: describeError(error) }, 'request pipeline failed')
      return this.#refuse(ctx, refuse('bad_request', 'The request could not be processed'))
    }
    if (refusal !== undefined) return this.#refuse(ctx, refusal)
    // The inspection stage (when the credential inspects) searched the path: `safePath` need not again.
    ctx.pathInspected = ctx.credential !== null && ctx.credential.bodyInspection !== 'off'

    let entryId: number
    try {
      entryId = await this.#options.audit.append(auditEntry(ctx, undefined, null))
    } catch (error) {
      this.#options.logger.error(
        { reqId: req.id, err: describeError(error), reason: ledgerFailureReason(error) },
        'ledger write failed',
      )
      this.#options.observer?.ledgerWriteFailed()
      this.#options.ledgerHealth?.failed()
      return this.#refused(
        ctx,
        refuse('ledger_unavailable', 'The audit ledger cannot be written; nothing was forwarded'),
        'failed',
      )
    }
    this.#options.ledgerHealth?.written()
    return this.#forward(ctx, entryId)
  }

  /**
   * Whether requests can be served now (sealed, ledger failing, `draining` as the channel says):
   * the one check behind the gate's `/_aegis/health` and the MCP `aegis_health` tool.
   */
  health(draining: boolean, now = Date.now()): HealthReport {
    const { state, ledgerHealth, audit } = this.#options
    return healthReport(state, ledgerHealth, audit, draining, now)
  }

  /**
   * The services a caller may use, for discovery (the MCP `aegis_list_services` tool). Names,
   * domains and scopes only.
   */
  services(
    agentToken: string | null,
  ): { ok: true; services: ServiceSummary[] } | { ok: false; refusal: Refusal } {
    if (this.#options.state.isSealed()) return { ok: false, refusal: SEALED_DISCOVERY }
    const snapshot = this.#options.state.current
    const now = Date.now()
    const ctx = createContext({ ...DISCOVERY_REQUEST, agentToken, receivedAt: now }, snapshot, now)
    const refusal = this.#identity(ctx)
    if (refusal !== undefined) return { ok: false, refusal }
    // Enforced policies refuse anonymous requests; discovery follows (see `anonymous.ts`).
    if (ctx.agent === null && this.#options.policy?.mode === 'enforce') {
      return { ok: false, refusal: ANONYMOUS_UNDER_POLICY }
    }
    const services: ServiceSummary[] = []
    for (const c of snapshot.byService.values()) {
      if (ctx.agent !== null && !ctx.agent.grants.has(c.id)) continue
      services.push({
        name: c.name,
        service: c.service,
        domains: c.domains.map((d) => d.text),
        scopes: [...c.scopes],
      })
    }
    return { ok: true, services }
  }

  /**
   * Refuses a request before the pipeline runs (the gate is draining, the request is malformed).
   * `routed: false` says the target is a channel's own endpoint (the MCP server's `/mcp`), not a
   * `/{service}/{path}` route: its row keeps it as sent.
   */
  reject(req: GateRequest, refusal: Refusal, options: { routed?: boolean } = {}): Promise<RefusedOutcome> {
    this.#options.observer?.requestStarted()
    const ctx = createContext(req, this.#options.state.current, Date.now())
    // Its row names the service, the path and the agent as a pipeline refusal's would: when the
    // target splits, when the token is an agent's. Their own refusals are not this request's (the
    // row keeps the target as sent, and names no agent).
    if (options.routed !== false) route(ctx)
    this.#identity(ctx)
    return this.#refuse(ctx, refusal)
  }

  async #forward(ctx: RequestContext, entryId: number): Promise<Outcome> {
    const { dispatchers, audit, logger, observer } = this.#options
    const dial = ctx.dial
    if (dial === null) {
      return this.#refused(ctx, refuse('address_denied', 'No checked address to dial'))
    }
    let response: UpstreamResponse | undefined
    let redacted: RedactedResponse
    const sentAt = Date.now()
    let upstreamMs = 0
    try {
      response = await forward(ctx, dispatchers.get(dial), this.#forwardLimits)
      upstreamMs = Date.now() - sentAt
      const redacting = redactResponse(
        response.status,
        ctx.req.method,
        response.headers,
        response.coding,
        response.body,
        ctx.snapshot.matcher,
        this.#forwardLimits.maxBodySize * DECODE_FACTOR,
      )
      redacted = redacting instanceof Promise ? await redacting : redacting
    } catch (error) {
      release(ctx)
      if (ctx.abandoned) return this.#abandoned(ctx, entryId)
      if (isConnectFailure(error)) this.#options.resolver.forget(dial.host, dial.address)
      const answered = response !== undefined
      const refusal = upstreamFailure(error, dial.host, answered)
      const status = REFUSAL_STATUS[refusal.code]
      const decision = refusal.code === 'body_too_large' ? 'blocked' : 'failed'
      observer?.requestEnded(requestRecord(ctx, decision, refusal.code, null))
      audit.complete(entryId, {
        requestId: ctx.req.id,
        decision,
        code: refusal.code,
        status,
        durationMs: Date.now() - ctx.req.receivedAt,
        bytesIn: ctx.bodySent(),
        bytesOut: 0,
      })
      logger.warn(
        {
          reqId: ctx.req.id,
          service: ctx.service,
          code: refusal.code,
          ...errorFields(error, answered),
        },
        'upstream request failed',
      )
      return { kind: 'refused', refusal, status, problem: problemDocument(refusal, ctx.req.id) }
    }
    return new Forwarded(ctx, entryId, response, redacted, audit, this.#requestLog, observer, upstreamMs)
  }

  /** Completes the row of a request whose client went away before the upstream answered. */
  #abandoned(ctx: RequestContext, entryId: number): RefusedOutcome {
    this.#options.observer?.requestEnded(requestRecord(ctx, 'failed', CLIENT_CLOSED, null))
    this.#options.audit.complete(entryId, {
      requestId: ctx.req.id,
      decision: 'failed',
      code: CLIENT_CLOSED,
      status: null,
      durationMs: Date.now() - ctx.req.receivedAt,
      bytesIn: ctx.bodySent(),
      bytesOut: 0,
    })
    // Nobody reads this answer: it only ends the channel's wait.
    const refusal = refuse(
      'upstream_unreachable',
      'The client closed the connection before the upstream answered',
    )
    return {
      kind: 'refused',
      refusal,
      status: REFUSAL_STATUS[refusal.code],
      problem: problemDocument(refusal, ctx.req.id),
    }
  }

  /** Records a refusal decided by the pipeline, then describes it. */
  async #refuse(ctx: RequestContext, refusal: Refusal): Promise<RefusedOutcome> {
    giveBack(ctx)
    const status = REFUSAL_STATUS[refusal.code]
    try {
      // A refusal is complete when it is decided: one write, with its duration.
      await this.#options.audit.append({
        ...auditEntry(ctx, refusal, status),
        durationMs: Date.now() - ctx.req.receivedAt,
        bytesIn: 0,
        bytesOut: 0,
      })
      this.#options.ledgerHealth?.written()
    } catch (error) {
      this.#options.logger.error(
        { reqId: ctx.req.id, err: describeError(error), reason: ledgerFailureReason(error) },
        'ledger write failed',
      )
      this.#options.observer?.ledgerWriteFailed()
      this.#options.ledgerHealth?.failed()
    }
    return this.#refused(ctx, refusal)
  }

  #refused(
    ctx: RequestContext,
    decided: Refusal,
    decision: 'blocked' | 'failed' = 'blocked',
  ): RefusedOutcome {
    giveBack(ctx)
    this.#options.observer?.requestEnded(requestRecord(ctx, decision, decided.code, null))
    const status = REFUSAL_STATUS[decided.code]
    // A detail may quote what the agent sent (`No credential serves "<segment>"`): the problem
    // document goes back to the agent and, through an MCP host, into its transcript and logs.
    const refusal = { ...decided, detail: loggable(ctx, decided.detail, MAX_DETAIL) }
    const { logger, failed } = this.#requestLog
    if (failed && logsAt(logger, 'info'))
      logger.info(
        {
          reqId: ctx.req.id,
          channel: ctx.req.channel,
          service: safeService(ctx),
          method: safeMethod(ctx),
          path: safePath(ctx),
          targetHost: safeTargetHost(ctx),
          status,
          code: refusal.code,
          ...dryRunFields(ctx),
        },
        'request refused',
      )
    return { kind: 'refused', refusal, status, problem: problemDocument(refusal, ctx.req.id) }
  }
}

/** Refusal details are one sentence; anything longer is an echo of agent input. */
const MAX_DETAIL = 1024
