/**
 * The dashboard's summaries (`timeline`, `window`, `blockedGroups`) as plans for either engine,
 * computed in SQL over the `ts` index: a range of five minutes or a day reads only its own rows.
 */
import { LedgerError } from './errors.js'
import type { Dialect, Plan } from './plan.js'
import type { BlockedGroup, LedgerRange, LedgerWindow, TimelineBucket } from './types.js'

/** `[since, until)` in epoch ms; `until` defaults to `now`. */
export function rangeOf(range: LedgerRange, now: number): { since: number; until: number } {
  const since = range?.since
  const until = range?.until ?? new Date(now)
  if (!(since instanceof Date) || Number.isNaN(since.getTime())) {
    throw new LedgerError('invalid_filter', 'Invalid ledger range: bad since')
  }
  if (!(until instanceof Date) || Number.isNaN(until.getTime()) || until.getTime() < since.getTime()) {
    throw new LedgerError('invalid_filter', 'Invalid ledger range: bad until')
  }
  return { since: since.getTime(), until: until.getTime() }
}

/** Most buckets one timeline may have: a chart never needs more, and the array stays small. */
export const MAX_BUCKETS = 10_000

/** Requests per `bucketSeconds` by decision, oldest first; empty buckets included. */
export function* timeline(
  d: Dialect,
  range: LedgerRange & { bucketSeconds: number },
  now: number,
): Plan<TimelineBucket[]> {
  const { since, until } = rangeOf(range, now)
  const seconds = range.bucketSeconds
  if (!Number.isSafeInteger(seconds) || seconds < 1) {
    throw new LedgerError('invalid_filter', 'Invalid ledger range: bucketSeconds must be a positive integer')
  }
  const width = seconds * 1000
  const count = Math.ceil((until - since) / width)
  if (count > MAX_BUCKETS) {
    throw new LedgerError('invalid_filter', `Invalid ledger range: more than ${MAX_BUCKETS} buckets`)
  }
  const buckets: TimelineBucket[] = Array.from({ length: count }, (_, i) => ({
    t: new Date(since + i * width).toISOString(),
    allowed: 0,
    blocked: 0,
    failed: 0,
  }))
  const rows = (yield {
    key: 'agg:timeline',
    sql: `SELECT CAST((ts - @since) / @width AS INTEGER) AS b,
       count(*) FILTER (WHERE decision = 'allowed') AS allowed,
       count(*) FILTER (WHERE decision = 'blocked') AS blocked,
       count(*) FILTER (WHERE decision = 'failed') AS failed
     FROM ${d.entries} WHERE ts >= @since AND ts < @until AND decision <> 'system' GROUP BY b`,
    params: { since, until, width },
  }) as { b: number; allowed: number; blocked: number; failed: number }[]
  for (const row of rows) {
    const bucket = buckets[row.b]
    if (bucket) Object.assign(bucket, { allowed: row.allowed, blocked: row.blocked, failed: row.failed })
  }
  return buckets
}

/** Counts over a range and the nearest-rank p95 of completed durations. */
export function* window(d: Dialect, range: LedgerRange, now: number): Plan<LedgerWindow> {
  const { since, until } = rangeOf(range, now)
  const [totals] = (yield {
    key: 'agg:window',
    sql: `SELECT count(*) AS requests,
       count(*) FILTER (WHERE decision = 'blocked') AS blocked,
       count(*) FILTER (WHERE decision = 'failed') AS failed,
       count(duration_ms) AS timed
     FROM ${d.entries} WHERE ts >= @since AND ts < @until AND decision <> 'system'`,
    params: { since, until },
  }) as [{ requests: number; blocked: number; failed: number; timed: number }]
  let p95Ms: number | null = null
  if (totals.timed > 0) {
    // Nearest rank: the smallest duration with at least 95 % of the durations at or below it.
    const offset = Math.ceil(0.95 * totals.timed) - 1
    const [row] = (yield {
      key: 'agg:p95',
      sql: `SELECT duration_ms AS d FROM ${d.entries}
       WHERE ts >= @since AND ts < @until AND decision <> 'system' AND duration_ms IS NOT NULL
       ORDER BY duration_ms LIMIT 1 OFFSET @offset`,
      params: { since, until, offset },
    }) as ({ d: number } | undefined)[]
    p95Ms = row?.d ?? null
  }
  return { requests: totals.requests, blocked: totals.blocked, failed: totals.failed, p95Ms }
}

/** Refused requests grouped by code (and agent unless `byAgent` is false), largest groups first. */
export function* blockedGroups(
  d: Dialect,
  range: LedgerRange & { limit?: number; byAgent?: boolean },
  now: number,
): Plan<BlockedGroup[]> {
  const { since, until } = rangeOf(range, now)
  const limit = range.limit ?? 100
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new LedgerError('invalid_filter', 'Invalid ledger filter: limit must be a positive integer')
  }
  const byAgent = range.byAgent !== false
  const agent = byAgent ? 'agent' : 'NULL'
  const rows = (yield {
    key: `agg:blocked:${byAgent}`,
    sql: `SELECT code, ${agent} AS agent, count(*) AS count, max(ts) AS last
     FROM ${d.entries} WHERE ts >= @since AND ts < @until AND decision = 'blocked'
     GROUP BY code${byAgent ? ', agent' : ''} ORDER BY count DESC, last DESC LIMIT @limit`,
    params: { since, until, limit },
  }) as {
    code: string | null
    agent: string | null
    count: number
    last: number
  }[]
  return rows.map((r) => ({
    code: r.code,
    agent: r.agent,
    count: r.count,
    lastSeen: new Date(r.last).toISOString(),
  }))
}
