/**
 * Request checks for the streamable HTTP transport, before any MCP message is read: the `Host`
 * header (DNS-rebinding defence), the `Origin` header (browser pages), and the bearer token.
 */

/** `Host` values a local MCP server answers to. */
export function allowedHosts(host: string, port: number): Set<string> {
  const hosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`])
  const shown = host.includes(':') ? `[${host}]` : host
  if (host !== '0.0.0.0' && host !== '::') hosts.add(`${shown.toLowerCase()}:${port}`)
  return hosts
}

/** `Origin` values accepted: the server's own local origins plus any configured ones. */
export function allowedOrigins(port: number, extra: readonly string[] = []): Set<string> {
  return new Set([`http://localhost:${port}`, `http://127.0.0.1:${port}`, ...extra.map(normalizeOrigin)])
}

function normalizeOrigin(origin: string): string {
  return origin.trim().replace(/\/+$/, '').toLowerCase()
}

/** True when a request's `Origin` is absent (not a browser) or one of the allowed origins. */
export function originAllowed(origin: string | undefined, allowed: ReadonlySet<string>): boolean {
  if (origin === undefined) return true
  return allowed.has(normalizeOrigin(origin))
}

/** The token in `Authorization: Bearer <token>`, or null when absent or malformed. */
export function bearerToken(header: string | undefined): string | null {
  if (header === undefined) return null
  const match = /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(header)
  return match?.[1] ?? null
}
