/**
 * Request checks for the streamable HTTP transport, before any MCP message is read: the `Origin`
 * header (browser pages) and the bearer token. The `Host` header (DNS-rebinding defence) is checked
 * by @aegis/guard's `hostAllowed`, the same rule as the gate's.
 */

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
