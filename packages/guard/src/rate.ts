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

/**
 * A reservation: on success the budget is already spent, and `refund()` gives back exactly this
 * reservation's share (for a request refused after its budget was taken). On refusal nothing was
 * spent and `retryAfterMs` says when the next request would fit.
 */
export type RateReservation = { ok: true; refund(): void } | { ok: false; retryAfterMs: number }

/**
 * Where budgets are kept: this process (`RateLimiter`) or a store every gate shares (a Redis
 * limiter). `reserve` checks and spends in one atomic step either way. A shared store may answer
 * later, ignores `now` when it has a clock of its own (so every gate reads the same one), and
 * rejects when it cannot be reached; the caller decides whether that refuses the request.
 */
export interface RateLimitStore {
  reserve(key: string, rate: Rate, now: number): RateReservation | Promise<RateReservation>
}

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

/** One key's state. `epoch` counts the times the key fell idle (its TAT caught up with the clock). */
interface Slot {
  tat: number
  epoch: number
}

/**
 * GCRA (generic cell rate algorithm) limiter. Per key it stores one number, the theoretical
 * arrival time (TAT). A rate of `count` per `periodMs` has emission interval T = periodMs/count and
 * tolerance τ = periodMs − T, so up to `count` requests may arrive at once and then one every T.
 *
 * `reserve` checks and spends in one synchronous step, so two requests can never both pass on the
 * last unit of budget while one of them waits for something (a DNS answer, a body). A request
 * refused later gives its unit back with `refund()`. Keys are kept in least-recently-spent order
 * and bounded by `maxKeys`: an idle key (TAT in the past) is equivalent to an absent one and is
 * dropped opportunistically; when the map is full the oldest key is evicted (forgetting its spent
 * budget). Use each key with one rate only.
 */
export class RateLimiter implements RateLimitStore {
  readonly #slots = new Map<string, Slot>()
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
    return this.#slots.size
  }

  /**
   * Spends one request for `key` at time `now` (ms) if it fits `rate`. On success `refund()` undoes
   * exactly this reservation's emission interval (once; later calls do nothing). On refusal nothing
   * is spent and `retryAfterMs` (a whole number ≥ 1) is when the next request would fit.
   */
  reserve(key: string, rate: Rate, now: number): RateReservation {
    const interval = rate.periodMs / rate.count
    const map = this.#slots
    let slot = map.get(key)
    const tat = Math.max(slot?.tat ?? now, now)
    const allowAt = tat + interval - rate.periodMs
    if (now < allowAt) return { ok: false, retryAfterMs: Math.max(1, Math.ceil(allowAt - now)) }
    if (slot === undefined) slot = { tat: now, epoch: 0 }
    else if (slot.tat < now) slot.epoch++
    slot.tat = tat + interval
    this.#touch(key, slot, now)
    const epoch = slot.epoch
    const spent = slot
    let refunded = false
    return {
      ok: true,
      refund: () => {
        if (refunded) return
        refunded = true
        // Only while the key still holds this unit: once it fell idle or was evicted, every unit
        // spent before (this one included) has already drained, and there is nothing to give back.
        if (map.get(key) === spent && spent.epoch === epoch) spent.tat -= interval
      },
    }
  }

  /** Forgets one key, or every key. */
  reset(key?: string): void {
    if (key === undefined) this.#slots.clear()
    else this.#slots.delete(key)
  }

  /** Moves `key` to the most recently spent end, dropping the oldest key if idle or over the bound. */
  #touch(key: string, slot: Slot, now: number): void {
    const map = this.#slots
    map.delete(key)
    const oldest = map.keys().next()
    if (!oldest.done) {
      const oldestTat = map.get(oldest.value)?.tat ?? 0
      if (oldestTat <= now || map.size >= this.#maxKeys) map.delete(oldest.value)
    }
    map.set(key, slot)
  }
}
