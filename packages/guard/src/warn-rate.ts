/**
 * A warning that is logged at most once per interval, with how many times it happened since the
 * last line: a flood of refused connections is one log line per 10 s, not one per connection, and
 * a store that stays unreachable one per 10 s, not one per retry.
 */
export class RateLimitedWarning {
  readonly #log: (count: number) => void
  readonly #intervalMs: number
  #count = 0
  #lastAt = Number.NEGATIVE_INFINITY

  constructor(log: (count: number) => void, intervalMs = 10_000) {
    this.#log = log
    this.#intervalMs = intervalMs
  }

  hit(now = Date.now()): void {
    this.#count++
    if (now - this.#lastAt < this.#intervalMs) return
    this.#lastAt = now
    const count = this.#count
    this.#count = 0
    this.#log(count)
  }

  /** The trouble is over: the next hit is logged at once, as the first was. */
  reset(): void {
    this.#count = 0
    this.#lastAt = Number.NEGATIVE_INFINITY
  }
}
