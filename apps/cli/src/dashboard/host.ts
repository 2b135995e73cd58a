/**
 * The Host allowlist, checked before anything else: a page on another origin whose DNS name was
 * re-pointed at 127.0.0.1 (DNS rebinding) reaches this server with its own name in `Host`, and is
 * refused here before it can read anything.
 */

const LOOPBACK_NAMES: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]'])
// `Host: name[:port]` or `Host: [v6][:port]`; anything else (an unbracketed IPv6, a path, spaces,
// userinfo) is not a host header a browser sends.
const HOST_HEADER = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$/
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/

/** The lower-cased host name of a `Host` (or origin authority) value, or null when malformed. */
export function hostnameOf(value: string | undefined): string | null {
  if (value === undefined) return null
  const match = HOST_HEADER.exec(value.toLowerCase())
  return match ? (match[1] ?? null) : null
}

/** `localhost`, `127.0.0.1`, `[::1]`, a `*.localhost` name, or one of `extra` (config's allowed_hosts). */
export function isAllowedHostname(hostname: string, extra: ReadonlySet<string>): boolean {
  if (LOOPBACK_NAMES.has(hostname) || extra.has(hostname)) return true
  if (!hostname.endsWith('.localhost')) return false
  // *.localhost always resolves to loopback (RFC 6761); every label must still be a DNS label.
  return hostname
    .slice(0, -'.localhost'.length)
    .split('.')
    .every((label) => LABEL.test(label))
}

/** Whether a request's `Host` header names this dashboard. Missing or malformed: no. */
export function isAllowedHost(header: string | undefined, extra: ReadonlySet<string>): boolean {
  const hostname = hostnameOf(header)
  return hostname !== null && isAllowedHostname(hostname, extra)
}
