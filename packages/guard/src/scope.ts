/**
 * Credential scopes: which HTTP methods a credential may be used with.
 */

/** `read`: GET, HEAD, OPTIONS. `write`: POST, PUT, PATCH, DELETE. `*`: every method. */
export type Scope = 'read' | 'write' | '*'

export const SCOPES: readonly Scope[] = ['read', 'write', '*']

const READ_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS'])
const WRITE_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/** Type guard for scope strings read from storage or flags. */
export function isScope(value: unknown): value is Scope {
  return value === 'read' || value === 'write' || value === '*'
}

/**
 * Whether `method` is allowed under any of `scopes`. Methods are compared exactly: HTTP method
 * names are case-sensitive (RFC 9110 §9.1), so `get` is not `GET` and is allowed only under `*`,
 * like PROPFIND and every other method outside the read and write sets (but see `neverForwarded`).
 */
export function scopeAllows(method: string, scopes: readonly Scope[]): boolean {
  for (const scope of scopes) {
    if (scope === '*') return true
    if (scope === 'read' && READ_METHODS.has(method)) return true
    if (scope === 'write' && WRITE_METHODS.has(method)) return true
  }
  return false
}

/**
 * The methods no credential is ever sent with, whatever its scopes: TRACE (and Microsoft's TRACK)
 * make the upstream echo the request back — the injected credential with it, sent for nothing —
 * and CONNECT asks for a tunnel, not an API call. Compared without regard to case: an upstream
 * that reads methods loosely must not be handed `trace` either.
 */
const NEVER_FORWARDED: ReadonlySet<string> = new Set(['TRACE', 'TRACK', 'CONNECT'])

/** The method's canonical name when it is one the gate never forwards (`NEVER_FORWARDED`), else null. */
export function neverForwarded(method: string): string | null {
  const upper = method.toUpperCase()
  return NEVER_FORWARDED.has(upper) ? upper : null
}
