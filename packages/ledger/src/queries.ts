/** `query`, `entries` and `stats` as plans for either engine (see plan.ts). */
import { LedgerError } from './errors.js'
import { buildWhere, limitOf, orderOf } from './filter.js'
import { and, type Dialect, type Plan } from './plan.js'
import { type EntryRow, toEntry } from './rows.js'
import type { LedgerEntry, LedgerFilter, LedgerStats, LedgerStatsFilter } from './types.js'

export type StoredRow = EntryRow & { id: number }

/** Matching entries in `orderOf` order, at most `limit` (default 20). */
export function* query(d: Dialect, filter: LedgerFilter = {}): Plan<LedgerEntry[]> {
  const where = buildWhere(filter)
  const limit = limitOf(filter.limit, 20)
  const order = orderOf(filter)
  const rows = (yield {
    key: `q:${where.shape}:${order}`,
    sql: `SELECT * FROM ${d.entries} ${where.sql} ${order} LIMIT @limit`,
    params: { ...where.params, limit },
  }) as StoredRow[]
  return rows.map(toEntry)
}

/** The entries with these ids that exist, by id ascending (at most 1000 ids per call). */
export function* entries(d: Dialect, ids: readonly number[]): Plan<LedgerEntry[]> {
  if (!Array.isArray(ids) || ids.length > 1000 || !ids.every((id) => Number.isSafeInteger(id))) {
    throw new LedgerError('invalid_filter', 'Invalid ledger ids: at most 1000 integers')
  }
  if (ids.length === 0) return []
  const match = d.idsIn(ids)
  const rows = (yield {
    key: 'ids',
    sql: `SELECT * FROM ${d.entries} WHERE ${match.sql} ORDER BY id`,
    params: { ids: match.value },
  }) as StoredRow[]
  return rows.map(toEntry)
}

/** Counts by decision, service, agent and code. `total` excludes system entries. */
export function* stats(d: Dialect, filter: LedgerStatsFilter = {}): Plan<LedgerStats> {
  const where = buildWhere({
    agent: filter.agent,
    service: filter.service,
    since: filter.since,
    until: filter.until,
  })
  const requests = and(where.sql, "decision <> 'system'")
  const [totals] = (yield {
    key: `st:${where.shape}`,
    sql: `SELECT
          count(*) FILTER (WHERE decision <> 'system') AS total,
          count(*) FILTER (WHERE decision = 'allowed') AS allowed,
          count(*) FILTER (WHERE decision = 'blocked') AS blocked,
          count(*) FILTER (WHERE decision = 'failed') AS failed,
          count(*) FILTER (WHERE decision = 'system') AS system
          FROM ${d.entries} ${where.sql}`,
    params: where.params,
  }) as [Omit<LedgerStats, 'byService' | 'byAgent' | 'byCode'>]
  const byColumn: Record<string, number>[] = []
  for (const column of ['service', 'agent', 'code']) {
    const rows = (yield {
      key: `sg:${column}:${where.shape}`,
      sql: `SELECT ${column} AS key, count(*) AS n FROM ${d.entries} ${requests} AND ${column} IS NOT NULL
             GROUP BY ${column} ORDER BY n DESC, ${column}${d.byteOrder}`,
      params: where.params,
    }) as { key: string; n: number }[]
    byColumn.push(Object.fromEntries(rows.map((row) => [row.key, row.n])))
  }
  const [byService = {}, byAgent = {}, byCode = {}] = byColumn
  return { ...totals, byService, byAgent, byCode }
}
