import type { RequestContext } from './context.js'
import { describeError, failureNote } from './errors.js'
import type { RequestRecord, UpstreamRecord } from './observer.js'

/*
 * How a request's end is told: the observer's record, the log line's fields, and the slots and
 * rate units it gives back. Shared by the engine (refusals, failures) and `Forwarded` (answers).
 */

/** The would-be refusal of a dry-run request, for its log line: the code and the rule, never agent input. */
export function dryRunFields(ctx: RequestContext): { dryRun?: string; dryRunRule?: unknown } {
  const would = ctx.dryRun
  if (would === null) return {}
  const rule = would.extra?.rule
  return rule === undefined ? { dryRun: would.code } : { dryRun: would.code, dryRunRule: rule }
}

/** A failed exchange's log fields: the error's name and code, and what went wrong when known. */
export function errorFields(error: unknown, answered: boolean): { err: string; reason?: string } {
  const reason = failureNote(error, answered)
  return reason === null ? { err: describeError(error) } : { err: describeError(error), reason }
}

/** What an observer learns about a request that ended: names from the snapshot, never agent input. */
export function requestRecord(
  ctx: RequestContext,
  decision: RequestRecord['decision'],
  code: string | null,
  upstream: UpstreamRecord | null,
): RequestRecord {
  return {
    channel: ctx.req.channel,
    service: ctx.credential?.service ?? null,
    agent: ctx.agent?.name ?? null,
    method: ctx.req.method,
    decision,
    code,
    durationSeconds: (Date.now() - ctx.req.receivedAt) / 1000,
    rateLimit: code === 'rate_limited' || code === 'rate_limit_unavailable' ? ctx.rateLimit : null,
    upstream,
  }
}

/** Gives back what the request held (in-flight slots) exactly once. */
export function release(ctx: RequestContext): void {
  if (ctx.releases.length === 0) return // the usual request: nothing held, no array to splice out
  for (const give of ctx.releases.splice(0)) give()
}

/** A refused request costs nothing: its rate units and its in-flight slot go back, exactly once. */
export function giveBack(ctx: RequestContext): void {
  if (ctx.refunds.length > 0) for (const refund of ctx.refunds.splice(0)) refund()
  release(ctx)
}
