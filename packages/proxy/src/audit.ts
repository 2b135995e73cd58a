import type { Refusal } from '@aegis/guard'
import { redactText } from '@aegis/inspect'
import type { RequestContext } from './context.js'

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
  append(entry: AuditEntry): Promise<number>
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
    agent: ctx.agent?.name ?? null,
    credential: ctx.credential?.name ?? null,
    service: ctx.service,
    targetHost: ctx.target?.host ?? null,
    method: ctx.req.method,
    path: safePath(ctx),
    decision: refusal === undefined ? 'allowed' : 'blocked',
    code: refusal?.code ?? null,
    status,
    dryRun: ctx.dryRun?.code ?? null,
    inspection: ctx.inspection,
  }
}

/**
 * The request path as the ledger and the logs may hold it: without the query, with any vault
 * secret replaced, and withheld entirely when inspection found a secret in it.
 */
export function safePath(ctx: RequestContext): string {
  if (ctx.pathCarriesSecret) return '[REDACTED]'
  // Scanned once per request: the ledger entry and the log line both use it.
  if (ctx.loggablePath === null) {
    const path = ctx.service === null ? pathOnly(ctx.req.target) : ctx.path
    ctx.loggablePath = redactText(path, ctx.snapshot.matcher).text
  }
  return ctx.loggablePath
}

/** The request target without its query, bounded, for rows of requests refused before routing. */
function pathOnly(target: string): string {
  const q = target.indexOf('?')
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is escaped
  const path = (q === -1 ? target : target.slice(0, q)).replace(/[\u0000-\u001f\u007f]/g, (c) =>
    encodeURIComponent(c),
  )
  return path.length > 2048 ? `${path.slice(0, 2048)}…` : path
}
