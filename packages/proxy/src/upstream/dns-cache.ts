import type { Refusal } from '@aegis/guard'

/**
 * One name's answer as the private-address guard judged it: the address to dial, or the refusal
 * every request for the name gets (a forbidden address in the answer, or no answer at all).
 */
export type NameVerdict =
  | { readonly address: string; readonly refusal: null }
  | { readonly address: null; readonly refusal: Refusal }

/** A cached verdict with its expiry and the last result built from it. */
export interface CachedName<R> {
  readonly verdict: NameVerdict
  /** `performance.now()` ms from which the name is looked up again. */
  readonly expires: number
  /** The result last built from the verdict, reused by the next request on the same port. */
  last: R | null
  lastPort: number
  /** How many names had been stored when this one last moved to the back of the order. */
  seq: number
}

/**
 * Judged DNS answers by name, each kept until its own expiry and at most `maxEntries` of them: the
 * least recently used name goes first. A wildcard allowlist entry lets an agent name unlimited
 * hosts; the bound keeps that from growing memory, and the recency order keeps the names in steady
 * use from being pushed out by a flood of one-off ones. The order is approximate: a hit moves its
 * name to the back only once half the cache's worth of names was stored after it (a Map delete and
 * set cost ~200 ns, four times the rest of a hit). A name hit at least once per `maxEntries / 2`
 * newly stored names is therefore never evicted.
 *
 * Hand-written rather than `cacheable-lookup` (7.0.0, its last release, from 2022): that library
 * answers a hit through a promise (a microtask hop this cache exists to avoid), is unbounded
 * unless given a second LRU package, resolves with c-ares first (so a name both in /etc/hosts and
 * in DNS would dial the DNS answer, unlike every other program on the host) and never caches the
 * `dns.lookup` fallback it uses for hosts-file names, so `localhost` would still cost a lookup per
 * request. Here a verdict, not a raw answer, is cached: a hit reuses the guard's judgement as it
 * was made and never re-judges or re-resolves.
 */
export class DnsCache<R> {
  readonly #entries = new Map<string, CachedName<R>>()
  readonly #maxEntries: number
  /** Names stored so far (new or refreshed): the clock `seq` is read against. */
  #stored = 0

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries
  }

  /** The live entry for `name` at `now`, or undefined. */
  get(name: string, now: number): CachedName<R> | undefined {
    const entry = this.#entries.get(name)
    if (entry === undefined || now >= entry.expires) return undefined
    if (this.#stored - entry.seq > this.#maxEntries >>> 1) {
      this.#entries.delete(name)
      this.#entries.set(name, entry)
      entry.seq = this.#stored
    }
    return entry
  }

  /**
   * The verdict last stored for `name`, live or expired (it stays until replaced or evicted): a
   * fresh answer that still holds the address in use keeps dialling it, so a round-robin name does
   * not open a new connection pool at every expiry.
   */
  previous(name: string): NameVerdict | undefined {
    return this.#entries.get(name)?.verdict
  }

  set(name: string, verdict: NameVerdict, expires: number): void {
    this.#entries.delete(name)
    this.#entries.set(name, { verdict, expires, last: null, lastPort: -1, seq: ++this.#stored })
    if (this.#entries.size > this.#maxEntries) {
      // Map iteration is insertion order: the first key is the least recently used.
      const oldest = this.#entries.keys().next().value
      if (oldest !== undefined) this.#entries.delete(oldest)
    }
  }

  /** Drops `name` if its answer dials `address`: a newer answer (another address) stays. */
  forget(name: string, address: string): void {
    if (this.#entries.get(name)?.verdict.address === address) this.#entries.delete(name)
  }

  get size(): number {
    return this.#entries.size
  }
}
