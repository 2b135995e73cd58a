import { lookup as dnsLookup } from 'node:dns/promises'
import { type AllowList, addressVerdict, parseAllowList, type Refusal, refuse } from '@aegis/guard'

/** A static `host:port → address:port` override, as curl's `--resolve`. Trusted by the address guard. */
export interface ResolveEntry {
  host: string
  port: number
  address: string
  addressPort: number
}

/** Resolved addresses for a host name. */
export type LookupFunction = (hostname: string) => Promise<ReadonlyArray<{ address: string; family: number }>>

/** Where a request will be dialled: the checked address, with the host name kept for SNI and Host. */
export interface DialTarget {
  readonly host: string
  readonly port: number
  readonly address: string
  readonly addressPort: number
}

export type ResolveResult = { ok: true; dial: DialTarget } | { ok: false; refusal: Refusal }

export interface AddressResolverOptions {
  overrides?: readonly ResolveEntry[]
  /** CIDRs (or single addresses) that may be dialled although they are private. */
  allowPrivate?: readonly string[]
  /** The resolver to use; defaults to the system's (`getaddrinfo`). */
  lookup?: LookupFunction
}

const systemLookup: LookupFunction = (hostname) => dnsLookup(hostname, { all: true, verbatim: true })

/**
 * Turns a validated host name into the one address to dial. Every address the name resolves to
 * must pass the private-address guard — an attacker-controlled zone that answers with one public
 * and one private address is refused, not raced.
 */
export class AddressResolver {
  readonly #overrides: ReadonlyMap<string, ResolveEntry>
  readonly #allow: AllowList
  readonly #lookup: LookupFunction

  constructor(options: AddressResolverOptions = {}) {
    this.#overrides = new Map((options.overrides ?? []).map((e) => [`${e.host.toLowerCase()}:${e.port}`, e]))
    this.#allow = parseAllowList([...(options.allowPrivate ?? [])])
    this.#lookup = options.lookup ?? systemLookup
  }

  async resolve(host: string, port: number): Promise<ResolveResult> {
    const pinned = this.#overrides.get(`${host}:${port}`)
    if (pinned !== undefined) {
      return { ok: true, dial: { host, port, address: pinned.address, addressPort: pinned.addressPort } }
    }
    let answers: ReadonlyArray<{ address: string }>
    try {
      answers = await this.#lookup(host)
    } catch {
      return { ok: false, refusal: refuse('upstream_unreachable', `Could not resolve ${host}`) }
    }
    const first = answers[0]
    if (first === undefined) {
      return { ok: false, refusal: refuse('upstream_unreachable', `${host} has no address`) }
    }
    for (const answer of answers) {
      const reason = addressVerdict(answer.address, this.#allow)
      if (reason !== null) {
        return {
          ok: false,
          refusal: refuse('address_denied', `${host} resolves to a forbidden address (${reason})`),
        }
      }
    }
    return { ok: true, dial: { host, port, address: first.address, addressPort: port } }
  }
}
