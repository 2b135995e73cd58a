import type { Query } from '../api/client.js'
import type { LedgerEntry, RequestDecision } from '../api/types.js'

/** The feed's filters; empty strings mean "any". */
export interface FeedFilter {
  service: string
  agent: string
  decision: RequestDecision | ''
  code: string
  /** A key of SINCE_OPTIONS, or '' for all time. */
  since: string
}

export const EMPTY_FILTER: FeedFilter = { service: '', agent: '', decision: '', code: '', since: '' }

/** The since choices the UI offers, in milliseconds back from now. */
export const SINCE_OPTIONS: Readonly<Record<string, number>> = {
  '15m': 15 * 60_000,
  '1h': 60 * 60_000,
  '24h': 24 * 60 * 60_000,
  '7d': 7 * 24 * 60 * 60_000,
}

/** The lower time bound of a since choice, or null for none (unknown choices mean none). */
export function sinceCutoff(since: string, now: Date): Date | null {
  const ms = Object.hasOwn(SINCE_OPTIONS, since) ? SINCE_OPTIONS[since] : undefined
  return ms === undefined ? null : new Date(now.getTime() - ms)
}

/**
 * The API query for a filter. `since` goes as an ISO time computed here so the live match below
 * and the server use the same cutoff.
 */
export function filterQuery(filter: FeedFilter, now: Date): Query {
  const cutoff = sinceCutoff(filter.since, now)
  return {
    service: filter.service.trim() || undefined,
    agent: filter.agent.trim() || undefined,
    decision: filter.decision || undefined,
    code: filter.code.trim() || undefined,
    since: cutoff ? cutoff.toISOString() : undefined,
  }
}

/**
 * Whether a live entry belongs in the feed under `filter` (the same fields the API filters on,
 * exact match). System entries never do: the feed shows requests.
 */
export function matchesFilter(entry: LedgerEntry, filter: FeedFilter, cutoff: Date | null): boolean {
  if (entry.decision === 'system') return false
  const service = filter.service.trim()
  const agent = filter.agent.trim()
  const code = filter.code.trim()
  if (service && entry.service !== service) return false
  if (agent && entry.agent !== agent) return false
  if (filter.decision && entry.decision !== filter.decision) return false
  if (code && entry.code !== code) return false
  if (cutoff && Date.parse(entry.time) < cutoff.getTime()) return false
  return true
}

/** True when two filters ask the server the same thing. */
export function sameFilter(a: FeedFilter, b: FeedFilter): boolean {
  return (
    a.service.trim() === b.service.trim() &&
    a.agent.trim() === b.agent.trim() &&
    a.decision === b.decision &&
    a.code.trim() === b.code.trim() &&
    a.since === b.since
  )
}
