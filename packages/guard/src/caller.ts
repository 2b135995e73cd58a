/**
 * Who may call a local Aegis server over HTTP (the gate, the MCP HTTP server, the dashboard):
 * defences against web pages. A page the developer has open can send "simple" requests to
 * 127.0.0.1 without any CORS check (the response is opaque, the side effect is not), and a
 * DNS-rebinding page can even read the answers: its own host name comes to resolve to 127.0.0.1.
 * Agents and SDKs never send `Origin` or `Sec-Fetch-*`, and they name the server by a loopback
 * name, an IP address, or a name the operator configured; a page does neither.
 */
import ipaddr from 'ipaddr.js'
import { type Refusal, refuse } from './problem.js'

/** The host names a server answers to (build with `parseHostAllowlist`). */
export interface HostAllowlist {
  readonly exact: ReadonlySet<string>
  /** `*.corp.example` entries, kept as `.corp.example`. */
  readonly suffixes: readonly string[]
}

const NAME_RE =
  /^(?:\*\.)?(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/

/**
 * Checks configured names (`gate.allowed_hosts`, `dashboard.allowed_hosts`): exact host names or
 * `*.suffix` wildcards (IP addresses are accepted too, though always allowed), case-insensitive,
 * without port or scheme. Returns the problem with the
 * first bad entry, or null.
 */
export function hostAllowlistProblem(names: readonly string[]): string | null {
  for (const [i, raw] of names.entries()) {
    const name = raw.trim().toLowerCase()
    // An IP address is always accepted (see hostAllowed); listing one is harmless.
    if (name.startsWith('[') && name.endsWith(']') && ipaddr.IPv6.isValid(name.slice(1, -1))) continue
    if (!NAME_RE.test(name) || name === '*') {
      return `entry ${i} ("${raw}") is not a host name or *.suffix (no scheme, port or path)`
    }
  }
  return null
}

/**
 * `localhost`, every `*.localhost` (RFC 6761: they only ever resolve to loopback, so no one else
 * can own them), and the configured names. IP literals are always accepted by `hostAllowed`.
 */
export function parseHostAllowlist(names: readonly string[] = []): HostAllowlist {
  const problem = hostAllowlistProblem(names)
  if (problem !== null) throw new Error(`Invalid allowed host: ${problem}`)
  const exact = new Set(['localhost'])
  const suffixes = ['.localhost']
  for (const raw of names) {
    const name = raw.trim().toLowerCase()
    if (name.startsWith('*.')) suffixes.push(name.slice(1))
    else exact.add(name)
  }
  return { exact, suffixes }
}

/**
 * May a request carrying this `Host` header be served? An IP literal (dotted IPv4 or bracketed
 * IPv6) always may — a DNS-rebinding page needs a name of its own; a name only when it is on
 * the list. A missing header is accepted (HTTP/1.0 clients; browsers always send one); anything
 * unparseable is not. The port is not compared: behind a proxy or a published container port
 * it differs from the one the server listens on.
 */
export function hostAllowed(header: string | undefined, allow: HostAllowlist): boolean {
  if (header === undefined || header === '') return true
  const host = hostOf(header)
  if (host === null) return false
  if (host.startsWith('[')) return ipaddr.IPv6.isValid(host.slice(1, -1))
  if (ipaddr.IPv4.isValidFourPartDecimal(host)) return true
  const name = host.endsWith('.') ? host.slice(0, -1) : host
  if (!NAME_RE.test(name) || name.startsWith('*')) return false
  if (allow.exact.has(name)) return true
  for (const suffix of allow.suffixes) if (name.endsWith(suffix) && name.length > suffix.length) return true
  return false
}

/** The host part of a `Host` header, lower-cased, without the port; null when malformed. */
function hostOf(header: string): string | null {
  const value = header.trim().toLowerCase()
  const match = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::([0-9]{1,5}))?$/.exec(value)
  if (match === null) return null
  const port = match[2]
  if (port !== undefined && Number(port) > 65535) return null
  return match[1] as string
}

/**
 * Refuses a request a web page sent: any `Origin` (browsers add it to cross-origin and to every
 * non-GET request; agents never do), or `Sec-Fetch-Site` other than `none` (a page made the
 * request; `none` is the user typing the address). Then the `Host` check. Null: go on.
 */
export function browserRefusal(
  headers: { host?: string; origin?: string; 'sec-fetch-site'?: string },
  allow: HostAllowlist,
): Refusal | null {
  if (!hostAllowed(headers.host, allow)) {
    return refuse(
      'host_denied',
      'The Host header names neither this machine nor a configured name (gate.allowed_hosts): a DNS-rebinding page cannot use the gate',
    )
  }
  const site = headers['sec-fetch-site']
  if (headers.origin !== undefined || (site !== undefined && site.trim().toLowerCase() !== 'none')) {
    return refuse(
      'origin_denied',
      'Requests from web pages are refused: the gate serves agents, which send no Origin or Sec-Fetch-Site header',
    )
  }
  return null
}
