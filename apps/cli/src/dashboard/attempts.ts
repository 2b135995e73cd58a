/**
 * Failed logins, per server (not per client: every client is local, and a per-address count would
 * be free to reset). 10 in a minute and further failures get 429 until the oldest ages out; with
 * 256-bit tokens this is about noise, not guessing, so a right token is never refused by it.
 */
export const MAX_FAILED_PER_MINUTE = 10

export class FailedAttempts {
  readonly #times: number[] = []
  readonly #now: () => number

  constructor(now: () => number = Date.now) {
    this.#now = now
  }

  /** True while the last minute holds the maximum of failures. */
  limited(): boolean {
    this.#prune()
    return this.#times.length >= MAX_FAILED_PER_MINUTE
  }

  /** Milliseconds until the oldest failure of the last minute ages out (0 when not limited). */
  retryAfterMs(): number {
    if (!this.limited()) return 0
    return Math.max(1, (this.#times[0] ?? 0) + 60_000 - this.#now())
  }

  record(): void {
    this.#prune()
    this.#times.push(this.#now())
  }

  #prune(): void {
    const cutoff = this.#now() - 60_000
    while (this.#times.length > 0 && (this.#times[0] ?? 0) <= cutoff) this.#times.shift()
  }
}
