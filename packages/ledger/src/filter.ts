import { LedgerError } from './errors.js'
import { storable } from './rows.js'
import type { LedgerFilter, LedgerStatsFilter } from './types.js'

/** A WHERE clause with named parameters, plus a key naming its shape (for statement caching). */
export interface Where {
  /** `WHERE …` or the empty string. */
  sql: string
  params: Record<string, string | number>
  /** Same shape ⇒ same SQL text, so one prepared statement per shape. */
  shape: string
}

function bound(value: Date | undefined, name: string): number | undefined {
  if (value === undefined) return undefined
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new LedgerError('invalid_filter', `Invalid ledger filter: bad ${name}`)
  }
  return value.getTime()
}

const DECISIONS: ReadonlySet<string> = new Set(['allowed', 'blocked', 'failed', 'system'])
const CHANNELS: ReadonlySet<string> = new Set(['gate', 'mcp', 'system'])

function oneOf(value: unknown, allowed: ReadonlySet<string>, name: string): string {
  if (typeof value !== 'string' || !allowed.has(value)) {
    throw new LedgerError('invalid_filter', `Invalid ledger filter: bad ${name}`)
  }
  return value
}

function idOf(value: number | undefined, name: string): number | undefined {
  if (value === undefined) return undefined
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new LedgerError('invalid_filter', `Invalid ledger filter: ${name} must be a non-negative integer`)
  }
  return value
}

/** Builds the WHERE clause shared by `query`, `iterate`, `exportTo` and `stats`. */
export function buildWhere(filter: LedgerFilter & LedgerStatsFilter): Where {
  const terms: string[] = []
  const params: Record<string, string | number> = {}
  let shape = ''
  const add = (flag: string, term: string, param?: [string, string | number]): void => {
    terms.push(term)
    shape += flag
    if (param) params[param[0]] = param[1]
  }
  if (filter.service !== undefined)
    add('s', 'service = @service', ['service', storable(String(filter.service))])
  if (filter.agent !== undefined) add('a', 'agent = @agent', ['agent', storable(String(filter.agent))])
  if (filter.blocked === true) add('b', "decision = 'blocked'")
  if (filter.system === true) add('y', "decision = 'system'")
  if (filter.requests === true) add('r', "decision <> 'system'")
  if (filter.decision !== undefined)
    add('d', 'decision = @decision', ['decision', oneOf(filter.decision, DECISIONS, 'decision')])
  if (filter.code !== undefined) add('c', 'code = @code', ['code', storable(String(filter.code))])
  if (filter.channel !== undefined)
    add('h', 'channel = @channel', ['channel', oneOf(filter.channel, CHANNELS, 'channel')])
  const afterId = idOf(filter.afterId, 'afterId')
  if (afterId !== undefined) add('>', 'id > @afterId', ['afterId', afterId])
  const beforeId = idOf(filter.beforeId, 'beforeId')
  if (beforeId !== undefined) add('<', 'id < @beforeId', ['beforeId', beforeId])
  const since = bound(filter.since, 'since')
  if (since !== undefined) add('f', 'ts >= @since', ['since', since])
  const until = bound(filter.until, 'until')
  if (until !== undefined) add('u', 'ts < @until', ['until', until])
  return { sql: terms.length ? `WHERE ${terms.join(' AND ')}` : '', params, shape }
}

/**
 * The ORDER BY of `query`: by id once paging by id (ids are the order entries were written in),
 * else by arrival time as before.
 */
export function orderOf(filter: LedgerFilter): string {
  const direction = filter.order === undefined ? 'DESC' : oneOf(filter.order, ORDERS, 'order').toUpperCase()
  return filter.afterId !== undefined || filter.beforeId !== undefined
    ? `ORDER BY id ${direction}`
    : `ORDER BY ts ${direction}, id ${direction}`
}

const ORDERS: ReadonlySet<string> = new Set(['asc', 'desc'])

/** A positive integer row limit, or the fallback when none was given. */
export function limitOf(limit: number | undefined, fallback: number): number {
  if (limit === undefined) return fallback
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new LedgerError('invalid_filter', 'Invalid ledger filter: limit must be a positive integer')
  }
  return limit
}
