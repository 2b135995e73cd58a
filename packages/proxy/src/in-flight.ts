/** Counts requests in flight per key (agent id). Entries vanish at zero, so memory follows load. */
export class InFlight {
  readonly #counts = new Map<string, number>()

  count(key: string): number {
    return this.#counts.get(key) ?? 0
  }

  acquire(key: string): void {
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1)
  }

  release(key: string): void {
    const n = (this.#counts.get(key) ?? 0) - 1
    if (n <= 0) this.#counts.delete(key)
    else this.#counts.set(key, n)
  }
}
