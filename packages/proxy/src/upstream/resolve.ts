import { lookup as dnsLookup } from 'node:dns/promises'
import { type AllowList, addressVerdict, parseAllowList, type Refusal, refuse } from '@aegis/guard'
import { DnsCache, type NameVerdict } from './dns-cache.js'

/** A static `host:port → address:port` override, as curl's `--resolve`. Trusted by the address guard. */
export interface ResolveEntry {
  host: string
  port: number
  address: string
  addressPort: number
}

/** One address a name resolves to. */
export interface LookupAnswer {
  address: string
  family: number
  /**
   * Seconds the answer may be reused (its DNS record's TTL), when the resolver knows it. The
   * system resolver (`dns.lookup`) does not: its answers are kept for the configured time.
   */
  ttl?: number
}

/** Resolved addresses for a host name. */
export type LookupFunction = (hostname: string) => Promise<ReadonlyArray<LookupAnswer>>

/** Where a request will be dialled: the checked address, with the host name kept for SNI and Host. */
export interface DialTarget {
  readonly host: string
  readonly port: number
  readonly address: string
  readonly addressPort: number
}

export type ResolveResult =
  | { readonly ok: true; readonly dial: DialTarget }
  | { readonly ok: false; readonly refusal: Refusal }

/**
 * 10 s, as undici's own DNS interceptor (`maxTTL`): `dns.lookup` reports no TTL, and a name in
 * steady use then costs one lookup per 10 s instead of one per request (api.github.com answers
 * with a 60 s TTL, Cloudflare-fronted APIs with 300 s, so 10 s stays well inside what they allow).
 */
export const DEFAULT_DNS_CACHE_TTL = 10_000
/** No answer is reused longer than 5 min, whatever its TTL or the configuration says. */
export const MAX_DNS_CACHE_TTL = 300_000
/** Names kept: far more than the upstreams a gate serves, small enough (~200 B each) not to matter. */
export const DEFAULT_DNS_CACHE_SIZE = 1024
/** A failed lookup (ENOTFOUND, a timeout) is answered from the cache this long at most. */
const NEGATIVE_TTL = 1_000

export interface AddressResolverOptions {
  overrides?: readonly ResolveEntry[]
  /** CIDRs (or single addresses) that may be dialled although they are private. */
  allowPrivate?: readonly string[]
  /** The resolver to use; defaults to the system's (`getaddrinfo`). */
  lookup?: LookupFunction
  /**
   * How long a name's judged answer is reused, ms: 0 looks the name up for every request. Default
   * 10 000, at most 300 000; an answer whose `ttl` is shorter is kept only that long.
   */
  dnsCacheTtl?: number
  /** Most names kept; the least recently used one is dropped first. Default 1024. */
  dnsCacheSize?: number
  /** A lookup still unanswered after this many ms fails the requests waiting on it. Default 30 000. */
  lookupTimeout?: number
}

const systemLookup: LookupFunction = (hostname) => dnsLookup(hostname, { all: true, verbatim: true })

/**
 * Turns a validated host name into the one address to dial. Every address the name resolves to
 * must pass the private-address guard — an attacker-controlled zone that answers with one public
 * and one private address is refused, not raced.
 *
 * A judged answer is reused until it expires (`DnsCache`): a hit returns synchronously, with the
 * verdict the guard gave when the answer arrived, so the address dialled is always one that was
 * checked and a refused name stays refused for as long as its answer lives. Requests for a name
 * whose lookup is under way wait for that lookup instead of starting their own.
 */
export class AddressResolver {
  readonly #pinned: ReadonlyMap<string, ReadonlyMap<number, ResolveResult>>
  readonly #allow: AllowList
  readonly #lookup: LookupFunction
  readonly #ttl: number
  readonly #lookupTimeout: number
  readonly #cache: DnsCache<ResolveResult> | null
  readonly #pending = new Map<string, Promise<NameVerdict>>()

  constructor(options: AddressResolverOptions = {}) {
    const pinned = new Map<string, Map<number, ResolveResult>>()
    for (const e of options.overrides ?? []) {
      const host = e.host.toLowerCase()
      const ports = pinned.get(host) ?? new Map<number, ResolveResult>()
      ports.set(e.port, {
        ok: true,
        dial: { host, port: e.port, address: e.address, addressPort: e.addressPort },
      })
      pinned.set(host, ports)
    }
    this.#pinned = pinned
    this.#allow = parseAllowList([...(options.allowPrivate ?? [])])
    this.#lookup = options.lookup ?? systemLookup
    this.#ttl = checkedInteger(
      'dnsCacheTtl',
      options.dnsCacheTtl ?? DEFAULT_DNS_CACHE_TTL,
      0,
      MAX_DNS_CACHE_TTL,
    )
    const size = checkedInteger('dnsCacheSize', options.dnsCacheSize ?? DEFAULT_DNS_CACHE_SIZE, 1, 1_000_000)
    this.#lookupTimeout = checkedInteger('lookupTimeout', options.lookupTimeout ?? 30_000, 1, 2_147_483_647)
    this.#cache = this.#ttl === 0 ? null : new DnsCache(size)
  }

  /**
   * The checked address for `host:port`, or the refusal. Synchronous for a pinned name and for a
   * name whose answer is cached; only a lookup is waited for.
   */
  resolve(host: string, port: number): ResolveResult | Promise<ResolveResult> {
    const pinned = this.#pinned.get(host)?.get(port)
    if (pinned !== undefined) return pinned
    const cache = this.#cache
    if (cache === null) return this.#judge(host, undefined).then((j) => resultOf(j.verdict, host, port))
    // The one clock read of the request: monotonic, so a wall-clock step cannot extend an entry.
    const now = performance.now()
    const hit = cache.get(host, now)
    if (hit !== undefined) {
      if (hit.lastPort !== port || hit.last === null) {
        hit.last = resultOf(hit.verdict, host, port)
        hit.lastPort = port
      }
      return hit.last
    }
    let pending = this.#pending.get(host)
    if (pending === undefined) {
      pending = this.#lookupAndKeep(cache, host, now)
      this.#pending.set(host, pending)
    }
    return pending.then((verdict) => resultOf(verdict, host, port))
  }

  /**
   * A connection to `address` (the cached answer for `host`) failed: the next request looks the
   * name up again instead of dialling a dead address for the rest of the TTL. Pinned names stay.
   */
  forget(host: string, address: string): void {
    this.#cache?.forget(host, address)
  }

  async #lookupAndKeep(cache: DnsCache<ResolveResult>, host: string, started: number): Promise<NameVerdict> {
    try {
      const { verdict, life } = await this.#judge(host, cache.previous(host))
      // Counted from before the lookup: an entry never outlives its TTL, however slow the answer.
      if (life > 0) cache.set(host, verdict, started + life)
      return verdict
    } finally {
      this.#pending.delete(host)
    }
  }

  /** Looks `host` up and judges every address; `life` is how long the verdict may be reused. */
  async #judge(
    host: string,
    previous: NameVerdict | undefined,
  ): Promise<{ verdict: NameVerdict; life: number }> {
    let answers: ReadonlyArray<LookupAnswer>
    try {
      answers = await this.#timed(host)
    } catch (error) {
      const detail =
        error instanceof LookupTimeout
          ? `Resolving ${host} took longer than ${this.#lookupTimeout} ms`
          : `Could not resolve ${host}`
      return { verdict: refused('upstream_unreachable', detail), life: Math.min(this.#ttl, NEGATIVE_TTL) }
    }
    const first = answers[0]
    if (first === undefined) {
      return {
        verdict: refused('upstream_unreachable', `${host} has no address`),
        life: Math.min(this.#ttl, NEGATIVE_TTL),
      }
    }
    let life = this.#ttl
    for (const answer of answers) {
      // A TTL that is not a number of seconds ≥ 0 is not trusted to extend anything.
      if (answer.ttl !== undefined) life = answer.ttl >= 0 ? Math.min(life, answer.ttl * 1000) : 0
    }
    for (const answer of answers) {
      const reason = addressVerdict(answer.address, this.#allow)
      if (reason !== null) {
        return {
          verdict: refused('address_denied', `${host} resolves to a forbidden address (${reason})`),
          life,
        }
      }
    }
    // Every address passed: keep dialling the one in use while the answer still holds it.
    const kept = previous?.address
    const address = kept != null && answers.some((a) => a.address === kept) ? kept : first.address
    return { verdict: { address, refusal: null }, life }
  }

  /** The lookup, failed with `LookupTimeout` if it has not answered within `lookupTimeout`. */
  #timed(host: string): Promise<ReadonlyArray<LookupAnswer>> {
    // Started before the timer: a lookup that throws at once leaves no timer (and no rejection) behind.
    const answers = this.#lookup(host)
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new LookupTimeout()), this.#lookupTimeout)
      timer.unref()
    })
    return Promise.race([answers, deadline]).finally(() => clearTimeout(timer))
  }
}

class LookupTimeout extends Error {}

function refused(code: 'upstream_unreachable' | 'address_denied', detail: string): NameVerdict {
  return { address: null, refusal: refuse(code, detail) }
}

function resultOf(verdict: NameVerdict, host: string, port: number): ResolveResult {
  if (verdict.refusal !== null) return { ok: false, refusal: verdict.refusal }
  return { ok: true, dial: { host, port, address: verdict.address, addressPort: port } }
}

function checkedInteger(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`)
  }
  return value
}
