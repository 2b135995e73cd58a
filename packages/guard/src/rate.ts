/**
 * Rate limits: the `N/unit` grammar and a bounded GCRA limiter (one number per key, O(1)).
 */

/** A parsed rate: `count` requests per `periodMs`, burst up to `count`. */
export interface Rate {
  count: number
  periodMs: number
  /** Canonical text, e.g. `100/min`. */
  text: string
}

export type RateCheck = { ok: true; commit(): void } | { ok: false; retryAfterMs: number }

export interface RateLimiterOptions {
  /** Keys remembered at most; the least recently spent key is forgotten first. Default 100 000. */
  maxKeys?: number
}

const UNITS: Readonly<Record<string, readonly [ms: number, canonical: string]>> = {
  s: [1_000, 'sec'],
  sec: [1_000, 'sec'],
  second: [1_000, 'sec'],
  m: [60_000, 'min'],
  min: [60_000, 'min'],
  minute: [60_000, 'min'],
  h: [3_600_000, 'hour'],
  hr: [3_600_000, 'hour'],
  hour: [3_600_000, 'hour'],
  d: [86_400_000, 'day'],
  day: [86_400_000, 'day'],
}

const RATE_RE = /^([1-9][0-9]{0,9})\s*\/\s*([a-z]+)$/i
const MAX_COUNT = 1e9

/**
 * Parses `N/sec|second|s`, `N/min|minute|m`, `N/hour|hr|h` or `N/day|d` (N a positive integer up
 * to 1e9; units case-insensitive; whitespace around the text and the `/` ignored).
 * Throws an `Error` naming the input otherwise.
 */
export function parseRate(text: string): Rate {
  const input = typeof text === 'string' ? text.trim() : ''
  const match = RATE_RE.exec(input)
  const unit = match?.[2] === undefined ? undefined : UNITS[match[2].toLowerCase()]
  const count = match?.[1] === undefined ? Number.NaN : Number(match[1])
  if (unit === undefined || !(count <= MAX_COUNT)) {
    throw new Error(
      `Invalid rate "${String(text)}": expected N/sec, N/min, N/hour or N/day (N from 1 to 1e9)`,
    )
  }
  return { count, periodMs: unit[0], text: `${count}/${unit[1]}` }
}

/**
 * GCRA (generic cell rate algorithm) limiter. Per key it stores one number, the theoretical
 * arrival time (TAT). A rate of `count` per `periodMs` has emission interval T = periodMs/count and
 * tolerance τ = periodMs − T, so up to `count` requests may arrive at once and then one every T.
 *
 * `check` never spends budget; call `commit()` on its result once every other check passed. Keys
 * are kept in least-recently-committed order and bounded by `maxKeys`: an idle key (TAT in the
 * past) is equivalent to an absent one and is dropped opportunistically; when the map is full the
 * oldest key is evicted (forgetting its spent budget). Use each key with one rate only.
 */
export class RateLimiter {
  readonly #tat = new Map<string, number>()
  readonly #maxKeys: number

  constructor(options: RateLimiterOptions = {}) {
    const maxKeys = options.maxKeys ?? 100_000
    if (!Number.isInteger(maxKeys) || maxKeys < 1) {
      throw new Error(`Invalid maxKeys ${String(options.maxKeys)}: expected a positive integer`)
    }
    this.#maxKeys = maxKeys
  }

  /** Number of keys currently remembered. */
  get size(): number {
    return this.#tat.size
  }

  /**
   * Would one more request for `key` at time `now` (ms) fit `rate`? On success, `commit()` spends
   * it; on refusal, `retryAfterMs` (a whole number ≥ 1) is when the next request would fit.
   */
  check(key: string, rate: Rate, now: number): RateCheck {
    const interval = rate.periodMs / rate.count
    const tat = Math.max(this.#tat.get(key) ?? now, now)
    const allowAt = tat + interval - rate.periodMs
    if (now < allowAt) return { ok: false, retryAfterMs: Math.max(1, Math.ceil(allowAt - now)) }
    return { ok: true, commit: () => this.#commit(key, interval, now) }
  }

  /** Forgets one key, or every key. */
  reset(key?: string): void {
    if (key === undefined) this.#tat.clear()
    else this.#tat.delete(key)
  }

  #commit(key: string, interval: number, now: number): void {
    const map = this.#tat
    // Recomputed from current state, so two commits after two checks both count.
    const tat = Math.max(map.get(key) ?? now, now) + interval
    map.delete(key)
    // Drop the least recently committed key if it is idle (costs nothing) or the map is full.
    const oldest = map.keys().next()
    if (!oldest.done) {
      const oldestTat = map.get(oldest.value) ?? 0
      if (oldestTat <= now || map.size >= this.#maxKeys) map.delete(oldest.value)
    }
    map.set(key, tat)
  }
}
