import { isIP } from 'node:net'

/** One static address override for an upstream, as curl's `--connect-to`/`--resolve`. */
export interface ResolveEntry {
  /** Upstream host name as the agent targets it (lower-case, no trailing dot). */
  host: string
  port: number
  /** IP literal to dial instead (IPv6 without brackets). */
  address: string
  addressPort: number
}

const HOSTNAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/

type Parsed<T> = { ok: true; value: T; rest: string } | { ok: false; error: string }

/** Reads a host token: `[v6]` or everything up to the next `:`. */
function readHost(text: string, what: string): Parsed<string> {
  if (text.startsWith('[')) {
    const close = text.indexOf(']')
    if (close < 0) return { ok: false, error: `${what}: missing "]" after IPv6 address` }
    const inner = text.slice(1, close)
    if (isIP(inner) !== 6) return { ok: false, error: `${what}: "[...]" must hold an IPv6 address` }
    return { ok: true, value: inner, rest: text.slice(close + 1) }
  }
  const colon = text.indexOf(':')
  const value = colon < 0 ? text : text.slice(0, colon)
  return { ok: true, value, rest: colon < 0 ? '' : text.slice(colon) }
}

/** Reads `:port` (1-65535) at the start of `text`. */
function readPort(text: string, what: string): Parsed<number> {
  const match = /^:(\d{1,5})(?=$|:)/.exec(text)
  const port = match?.[1] === undefined ? Number.NaN : Number(match[1])
  if (!match || !(port >= 1 && port <= 65535)) return { ok: false, error: `${what}: expected a port 1-65535` }
  return { ok: true, value: port, rest: text.slice(match[0].length) }
}

function normalizeUpstreamHost(raw: string): string | null {
  const host = raw.toLowerCase().replace(/\.$/, '')
  if (isIP(host) !== 0) return host
  return HOSTNAME.test(host) && host.length <= 253 ? host : null
}

function parseHostPort(text: string): Parsed<{ host: string; port: number }> {
  const host = readHost(text, 'upstream host')
  if (!host.ok) return host
  const name = normalizeUpstreamHost(host.value)
  if (name === null) return { ok: false, error: 'upstream host: expected a host name' }
  const port = readPort(host.rest, 'upstream port')
  if (!port.ok) return port
  return { ok: true, value: { host: name, port: port.value }, rest: port.rest }
}

function parseAddress(text: string, defaultPort: number): { address: string; addressPort: number } | string {
  const host = readHost(text, 'address')
  if (!host.ok) return host.error
  if (!text.startsWith('[') && host.rest.split(':').length > 2) {
    return 'address: write an IPv6 address in brackets, like [::1]:8443'
  }
  if (isIP(host.value) === 0) return 'address: expected an IP address'
  if (host.rest === '') return { address: host.value, addressPort: defaultPort }
  const port = readPort(host.rest, 'address port')
  if (!port.ok) return port.error
  if (port.rest !== '') return 'address: unexpected text after the port'
  return { address: host.value, addressPort: port.value }
}

/**
 * Parses `host:port:address[:addressPort]` (addressPort defaults to port). IPv6 literals are
 * written in brackets. Returns the entry or a message (the message never echoes the input).
 */
export function parseResolveEntry(text: string): ResolveEntry | string {
  const hostPort = parseHostPort(text)
  if (!hostPort.ok) return hostPort.error
  if (!hostPort.rest.startsWith(':')) return 'expected "host:port:address:port"'
  const address = parseAddress(hostPort.rest.slice(1), hostPort.value.port)
  if (typeof address === 'string') return address
  return { ...hostPort.value, ...address }
}

/** Parses the map form: key `host:port`, value `address[:port]`. */
export function parseResolveMapping(key: string, value: string): ResolveEntry | string {
  const hostPort = parseHostPort(key)
  if (!hostPort.ok) return hostPort.error
  if (hostPort.rest !== '') return 'expected the key to be "host:port"'
  const address = parseAddress(value, hostPort.value.port)
  if (typeof address === 'string') return address
  return { ...hostPort.value, ...address }
}

/** Renders an entry back to the map form used in the config file. */
export function formatResolveEntry(entry: ResolveEntry): [key: string, value: string] {
  const bracket = (host: string) => (isIP(host) === 6 ? `[${host}]` : host)
  return [`${bracket(entry.host)}:${entry.port}`, `${bracket(entry.address)}:${entry.addressPort}`]
}

/** True for an IP address or CIDR range (`10.0.0.0/8`, `fd00::/8`); the gate re-validates. */
export function isIpOrCidr(text: string): boolean {
  const parts = text.split('/')
  if (parts.length > 2) return false
  const [address = '', prefix] = parts
  const family = isIP(address)
  if (family === 0) return false
  if (prefix === undefined) return true
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128)
}
