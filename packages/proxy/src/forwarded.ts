import type { Readable } from 'node:stream'
import { DEFAULT_PORT, defaultTarget } from '@aegis/guard'
import { type AuditSink, safePath } from './audit.js'
import type { RequestContext } from './context.js'
import type { AnswerUpstream, ForwardedOutcome } from './engine.js'
import { deliveryFailureCode } from './errors.js'
import { type Logger, logsAt } from './logger.js'
import type { RequestObserver } from './observer.js'
import { dryRunFields, errorFields, release, requestRecord } from './request-end.js'
import type { UpstreamResponse } from './upstream/forward.js'
import type { RedactedResponse } from './upstream/redact-response.js'

/** Which requests get a line: refused and failed ones when `failed`, those that ended well when `allowed`. */
export interface RequestLog {
  logger: Logger
  allowed: boolean
  failed: boolean
}

/** A forwarded request on its way back to the agent; `finish` records how delivery ended. */
export class Forwarded implements ForwardedOutcome {
  readonly kind = 'forwarded'
  readonly status: number
  readonly headers: Record<string, string | string[]>
  readonly parts: readonly Buffer[] | null

  constructor(
    private readonly ctx: RequestContext,
    private readonly entryId: number,
    private readonly response: UpstreamResponse,
    private readonly redacted: RedactedResponse,
    private readonly audit: AuditSink,
    private readonly log: RequestLog,
    private readonly observer: RequestObserver | undefined,
    private readonly upstreamMs: number,
  ) {
    this.status = response.status
    this.headers = redacted.headers
    this.parts = redacted.parts
  }

  get body(): Readable {
    return this.redacted.body()
  }

  upstream(): AnswerUpstream | null {
    const { service, target, credential } = this.ctx
    if (service === null || target === null || credential === null) return null
    const reached = defaultTarget(credential.domains)
    if (reached === null || reached.host !== target.host || (reached.port ?? DEFAULT_PORT) !== target.port)
      return null
    return { service, host: target.host, port: target.port }
  }

  finish({ bytesOut, error, code }: { bytesOut: number; error?: unknown; code?: string }): void {
    const { ctx, response } = this
    release(ctx)
    const durationMs = Date.now() - ctx.req.receivedAt
    const failed = error !== undefined || code !== undefined
    const failure = failed ? (code ?? deliveryFailureCode(error)) : null
    const redactions = this.redacted.redactions()
    const bytesIn = response.bytesIn()
    this.observer?.requestEnded(
      requestRecord(ctx, failed ? 'failed' : 'allowed', failure, {
        status: response.status,
        seconds: this.upstreamMs / 1000,
        bytesIn,
        bytesOut,
      }),
    )
    this.audit.complete(this.entryId, {
      requestId: ctx.req.id,
      // The row says `allowed` since it was written; only a failure changes that.
      decision: failed ? 'failed' : undefined,
      code: failure,
      status: response.status,
      durationMs,
      bytesIn,
      bytesOut,
      redactions: redactions === 0 ? null : redactions,
    })
    const { logger } = this.log
    // A request dry-run would have refused is logged like a refusal: it is what dry-run is for.
    const logged = failed || ctx.dryRun !== null ? this.log.failed : this.log.allowed
    if (!logged || !logsAt(logger, 'info')) return
    logger.info(
      {
        reqId: ctx.req.id,
        channel: ctx.req.channel,
        service: ctx.service,
        method: ctx.req.method,
        path: safePath(ctx),
        status: response.status,
        durationMs,
        ...(redactions === 0 ? {} : { redactions }),
        ...(error === undefined ? {} : errorFields(error, true)),
        ...(code === undefined ? {} : { code }),
        ...dryRunFields(ctx),
      },
      ctx.dryRun === null ? 'request forwarded' : 'request forwarded (dry-run: policies would refuse it)',
    )
  }
}
