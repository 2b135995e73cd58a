import { parseTargetHost, type Refusal } from '@aegis/guard'
import type { RequestContext } from './context.js'
import { loggable } from './loggable.js'

/** One ledger row as the gate writes it. No secret, token, query string or body ever goes in. */
export interface AuditEntry {
  requestId: string
  channel: 'gate' | 'mcp'
  agent: string | null
  credential: string | null
  service: string | null
  targetHost: string | null
  method: string
  path: string
  decision: 'allowed' | 'blocked' | 'failed'
  code: string | null
  status: number | null
  dryRun?: string | null
  inspection?: string | null
  /** Set when the entry is written complete (refusals): how long and how many bytes. */
  durationMs?: number
  bytesIn?: number
  bytesOut?: number
}

export interface AuditOutcome {
  /**
   * The request this completes (the entry's `requestId`, the `X-Request-Id` the agent got back), so
   * a host can match the two calls without keeping its own id → request map.
   */
  requestId: string
  decision?: 'allowed' | 'blocked' | 'failed'
  code?: string | null
  status?: number | null
  durationMs: number
  bytesIn: number
  bytesOut: number
  redactions?: number | null
  inspection?: string | null
}

/**
 * Where the gate records what it did. `@aegis/ledger`'s `Ledger` satisfies it: `append` resolves
 * once the entry is durably committed, and the gate forwards nothing before that.
 */
export interface AuditSink {
  /** Resolves with an id of the sink's choosing (any number); the gate hands it back to `complete`. */
  append(entry: AuditEntry): Promise<number>
  /** The request's result once the response is over; `outcome.requestId` names the request. */
  complete(id: number, outcome: AuditOutcome): void
  system(event: string, detail?: string): Promise<number>
}

/** The ledger row for a request at the point it was decided. */
export function auditEntry(
  ctx: RequestContext,
  refusal: Refusal | undefined,
  status: number | null,
): AuditEntry {
  return {
    requestId: ctx.req.id,
    channel: ctx.req.channel,
    agent: ctx.agent?.name ?? ctx.refusedAgent ?? null,
    credential: ctx.credential?.name ?? null,
    service: safeService(ctx),
    targetHost: safeTargetHost(ctx),
    method: safeMethod(ctx),
    path: safePath(ctx),
    decision: refusal === undefined ? 'allowed' : 'blocked',
    code: refusal?.code ?? null,
    status,
    dryRun: ctx.dryRun?.code ?? null,
    inspection: ctx.inspection,
  }
}

/**
 * The request path as the ledger and the logs may hold it: without the query, sanitised (see
 * `loggable`), and withheld entirely when inspection found a secret in it.
 */
export function safePath(ctx: RequestContext): string {
  if (ctx.pathCarriesSecret) return '[REDACTED]'
  // Scanned once per request: the ledger entry and the log line both use it.
  if (ctx.loggablePath === null) {
    const path = ctx.service === null ? pathOnly(ctx.req.target) : ctx.path
    ctx.loggablePath = loggable(ctx, path, MAX_PATH, ctx.pathInspected)
  }
  return ctx.loggablePath
}

/** 2 KiB of path is enough to tell requests apart; the HTTP parser allows 16 KiB of head. */
const MAX_PATH = 2048
/** The guard's limit on a service segment. */
const MAX_SERVICE = 100
/** A DNS name is at most 253 characters; 255 plus the `…` mark fits the ledger's 256 for names. */
const MAX_HOST = 255

/** The service segment: a configured name once a credential serves it, else the agent's choice, sanitised. */
export function safeService(ctx: RequestContext): string | null {
  if (ctx.service === null || ctx.credential !== null) return ctx.service
  return loggable(ctx, ctx.service, MAX_SERVICE)
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'CONNECT', 'TRACE'])

/** An HTTP token (RFC 9110 tchar) of at most 16 characters: what a ledger row can hold as a method. */
const RECORDABLE_METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,16}$/

/**
 * The method as the ledger and the log hold it. An MCP tool call can name any string: one that is
 * not a short HTTP token once sanitised (a control character, a space, `=`, a secret withheld as
 * `[REDACTED]`, or cut with `…`) is `UNKNOWN`, as the HTTP parser's refusals record it. Anything
 * else would be an entry the ledger refuses, and the request would go unrecorded.
 */
export function safeMethod(ctx: RequestContext): string {
  const method = ctx.req.method
  if (METHODS.has(method)) return method
  const shown = loggable(ctx, method, 16)
  return RECORDABLE_METHOD.test(shown) ? shown : 'UNKNOWN'
}

/**
 * Where the request was to be sent: the checked target once there is one, else the host the
 * agent asked for in `X-Target-Host` (normalised when it parses, as it was sent otherwise),
 * sanitised — so a refused destination (`domain_denied`, a bad port) is still on record.
 */
export function safeTargetHost(ctx: RequestContext): string | null {
  const asked = ctx.req.targetHost
  // The credential's own default host is configuration; a host the agent named may hide a secret
  // in a label (`<secret>.allowed-wildcard.example`). The target stage refused one it could find
  // when the credential inspects, so only token shapes are left to look for then.
  if (ctx.target !== null) {
    if (asked === null) return ctx.target.host
    return loggable(ctx, ctx.target.host, MAX_HOST, ctx.credential?.bodyInspection !== 'off')
  }
  if (asked === null || asked === '') return null
  const parsed = parseTargetHost(asked)
  const host = parsed.ok ? (parsed.port === null ? parsed.host : `${parsed.host}:${parsed.port}`) : asked
  return loggable(ctx, host, MAX_HOST)
}

/** The request target without its query, for rows of requests whose target does not split into service and path. */
function pathOnly(target: string): string {
  const q = target.indexOf('?')
  return q === -1 ? target : target.slice(0, q)
}
