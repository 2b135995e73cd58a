/** Query-string parsing shared by the ledger routes: every value checked, a 400 naming it otherwise. */
import { parseSince } from '@aegis/ledger'
import { ApiError } from '../respond.js'

const AGO = /^(\d{1,6})(s|m|h|d)$/
const UNIT_MS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** `15m`, `1h`, `7d` (before `now`), or what `parseSince` takes (an ISO date or time). */
export function sinceOf(text: string, now: number): Date {
  const ago = AGO.exec(text.trim())
  if (ago) return new Date(now - Number(ago[1]) * (UNIT_MS[ago[2] ?? 's'] ?? 1000))
  try {
    return parseSince(text)
  } catch {
    throw new ApiError(
      400,
      'invalid_request',
      'since: expected 15m, 1h, 7d, a date (YYYY-MM-DD) or an ISO 8601 time',
    )
  }
}

/** The given parameters, refusing any not in `allowed` (a typo must not silently widen a view). */
export function queryOf(query: URLSearchParams, allowed: readonly string[]): Map<string, string> {
  const out = new Map<string, string>()
  for (const [key, value] of query) {
    if (!allowed.includes(key)) throw new ApiError(400, 'invalid_request', `Unknown query parameter ${key}`)
    if (out.has(key)) throw new ApiError(400, 'invalid_request', `Query parameter ${key} given twice`)
    if (value !== '') out.set(key, value)
  }
  return out
}

/**
 * An integer in [min, max], or a 400 naming the parameter and the range (the same line for a value
 * that is no integer and for one out of range: either way the caller learns what is allowed).
 */
export function intOf(name: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined
  const value = /^\d{1,16}$/.test(text) ? Number(text) : Number.NaN
  if (!(value >= min && value <= max))
    throw new ApiError(400, 'invalid_request', `${name}: ${rangeOf(min, max)}`)
  return value
}

/** `expected an integer from 1 to 500`, or `… of 0 or more` when the top is no real bound. */
function rangeOf(min: number, max: number): string {
  return max >= Number.MAX_SAFE_INTEGER
    ? `expected an integer of ${min} or more`
    : `expected an integer from ${min} to ${max}`
}
