/**
 * Header policy between the agent and the upstream: forward end-to-end headers, strip hop-by-hop
 * ones, anything that steers the gate or the upstream's view of the request, and the credential's
 * own header (which the gate injects itself).
 */

/** Hop-by-hop headers (RFC 9110 §7.6.1 plus the legacy proxy ones). */
const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
])

/**
 * Request headers never forwarded: routing and identity headers the gate owns (`host`,
 * `authorization`), method/URL overrides, client-address claims, and framing the gate redoes
 * (`content-length`; `expect`, which undici refuses).
 */
const REQUEST_DROPPED: ReadonlySet<string> = new Set([
  'host',
  'authorization',
  'x-target-host',
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
  'x-original-url',
  'x-rewrite-url',
  'forwarded',
  'x-real-ip',
  'x-client-ip',
  'true-client-ip',
  'x-cluster-client-ip',
  'content-length',
  'expect',
])

/**
 * Request headers that carry a credential by convention, never forwarded: with them an agent could
 * send its own key beside (or instead of) the one the gate injects, or a key it should not hold.
 * Sources: the API-key headers of widely used APIs and gateways (AWS API Gateway `x-api-key`,
 * Azure `api-key` / `ocp-apim-subscription-key` / `x-functions-key`, Google `x-goog-api-key`,
 * GitLab `private-token` / `job-token`, RapidAPI, Figma, Shopify, Datadog, HashiCorp, Algolia,
 * Postmark, Pinata, CircleCI, Cloudflare's legacy `x-auth-key`) and the generic spellings
 * (`apikey`, `x-api-token`, `x-auth-token`, `x-access-token`). `x-amz-security-token` is an AWS
 * session token; the other SigV4 headers (`x-amz-date`, `x-amz-content-sha256`) hold no secret and
 * pass. `cookie` is end-to-end and passes (a credential-shaped cookie value is caught by format).
 */
export const CREDENTIAL_REQUEST_HEADERS: ReadonlySet<string> = new Set([
  'api-key',
  'apikey',
  'circle-token',
  'dd-api-key',
  'dd-application-key',
  'job-token',
  'ocp-apim-subscription-key',
  'pinata_api_key',
  'pinata_secret_api_key',
  'private-token',
  'x-access-token',
  'x-algolia-api-key',
  'x-api-key',
  'x-api-token',
  'x-apikey',
  'x-auth',
  'x-auth-key',
  'x-auth-token',
  'x-amz-security-token',
  'x-consul-token',
  'x-figma-token',
  'x-functions-key',
  'x-goog-api-key',
  'x-nomad-token',
  'x-postmark-account-token',
  'x-postmark-server-token',
  'x-rapidapi-key',
  'x-shopify-access-token',
  'x-token',
  'x-vault-token',
])

const REQUEST_DROPPED_PREFIXES = ['x-aegis-', 'x-forwarded-', 'proxy-'] as const
const RESPONSE_DROPPED_PREFIXES = ['x-aegis-'] as const

/** RFC 9110 token characters. */
const TOKEN_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

/** True when `name` is an RFC 9110 token: what a header name (or a method) may be. */
export function isHttpToken(name: string): boolean {
  return TOKEN_RE.test(name)
}

/** True when a header value holds CR, LF, NUL or another control character (HTAB is allowed). */
function hasUnsafeValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return true
  }
  return false
}

function startsWithAny(name: string, prefixes: readonly string[]): boolean {
  for (const prefix of prefixes) if (name.startsWith(prefix)) return true
  return false
}

/** Adds the (lower-cased) header names listed in a `Connection` value to `into`. */
function addConnectionTokens(value: string, into: Set<string>): void {
  for (const token of value.split(',')) {
    const name = token.trim().toLowerCase()
    if (name.length > 0) into.add(name)
  }
}

/**
 * Filters Node's `req.rawHeaders` (alternating name, value, as received) into the flat
 * `[name, value, …]` array undici's `request({ headers })` accepts, keeping the original name
 * casing, order and duplicates of every header that survives.
 *
 * Dropped: hop-by-hop headers, every header named in any `Connection` value, `host`,
 * `authorization`, `proxy-*`, `x-aegis-*`, `x-target-host`, method/URL overrides
 * (`x-http-method-override`, `x-http-method`, `x-method-override`, `x-original-url`,
 * `x-rewrite-url`), client-address claims (`forwarded`, `x-forwarded-*`, `x-real-ip`,
 * `x-client-ip`, `true-client-ip`, `x-cluster-client-ip`), `content-length` and `expect` (the
 * caller re-frames the body), the conventional credential headers (`CREDENTIAL_REQUEST_HEADERS`),
 * the names in `drop` and `dropName` (lower-case; e.g. configured extra names and the credential's
 * own header), names that are not RFC 9110 tokens, and values holding CR, LF, NUL or other control
 * characters. `cookie` is end-to-end and is kept.
 */
export function forwardRequestHeaders(
  rawHeaders: readonly string[],
  drop?: ReadonlySet<string>,
  dropName?: string | null,
): string[] {
  let named: Set<string> | null = null
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]
    const value = rawHeaders[i + 1]
    if (name !== undefined && value !== undefined && name.toLowerCase() === 'connection') {
      named ??= new Set()
      addConnectionTokens(value, named)
    }
  }

  const out: string[] = []
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]
    const value = rawHeaders[i + 1]
    if (typeof name !== 'string' || typeof value !== 'string') continue
    if (!TOKEN_RE.test(name) || hasUnsafeValue(value)) continue
    const lower = name.toLowerCase()
    if (HOP_BY_HOP.has(lower) || REQUEST_DROPPED.has(lower) || CREDENTIAL_REQUEST_HEADERS.has(lower)) continue
    if (startsWithAny(lower, REQUEST_DROPPED_PREFIXES)) continue
    if (named?.has(lower) || drop?.has(lower) || lower === dropName) continue
    out.push(name, value)
  }
  return out
}

/**
 * The record `forwardResponseHeaders` returns: a constructor whose prototype has no prototype, so an
 * instance inherits nothing (`toString`, `constructor`, the `__proto__` accessor are not there: a
 * `__proto__` header is an own property like any other) yet keeps V8's fast properties, which an
 * `Object.create(null)` dictionary does not — the record is written, redacted and serialised once
 * per response.
 */
const HeaderRecord = function HeaderRecord(this: object) {} as unknown as new () => Record<
  string,
  string | string[]
>
HeaderRecord.prototype = Object.create(null)

/**
 * Response header names already seen to pass the checks that depend on the name alone (a token,
 * not hop-by-hop, not `x-aegis-*`): an upstream sends the same few on every answer. Bounded, so a
 * stream of new names only stops adding to it.
 */
const PASSING_NAMES = new Set<string>()
const PASSING_NAMES_MAX = 1024

/** True when `name` passes the name-only checks for a response header (remembered when it does). */
function passingResponseName(name: string): boolean {
  if (PASSING_NAMES.has(name)) return true
  const lower = name.toLowerCase()
  if (HOP_BY_HOP.has(lower) || startsWithAny(lower, RESPONSE_DROPPED_PREFIXES) || !TOKEN_RE.test(name)) {
    return false
  }
  if (PASSING_NAMES.size < PASSING_NAMES_MAX) PASSING_NAMES.add(name)
  return true
}

/**
 * Filters an upstream response's headers (undici's lower-cased object) for the agent: drops
 * hop-by-hop headers, every header named in `Connection`, `x-aegis-*` (only the gate speaks for
 * Aegis), the names in `drop` (lower-case), names that are not tokens, and values holding control
 * characters (array values keep their safe entries). Returns a new object that inherits nothing.
 */
export function forwardResponseHeaders(
  raw: Readonly<Record<string, string | string[] | undefined>>,
  drop?: ReadonlySet<string>,
): Record<string, string | string[]> {
  // One pass; `Connection` (hop-by-hop itself) is only remembered, and the names it lists are
  // removed afterwards — rarely any but `keep-alive` and `close`, which name nothing to remove.
  let connection: string | string[] | null = null
  const out = new HeaderRecord()
  const dropping = drop !== undefined && drop.size > 0
  for (const key of Object.keys(raw)) {
    const value = raw[key]
    if (value === undefined) continue
    if (!passingResponseName(key)) {
      if (key.toLowerCase() === 'connection')
        connection = connection === null ? value : [connection, value].flat()
      continue
    }
    if (dropping && drop.has(key.toLowerCase())) continue
    if (typeof value === 'string') {
      if (!hasUnsafeValue(value)) out[key] = value
    } else if (Array.isArray(value)) {
      const safe = value.filter((v) => typeof v === 'string' && !hasUnsafeValue(v))
      if (safe.length > 0) out[key] = safe
    }
  }
  if (connection !== null) removeConnectionNamed(out, connection)
  return out
}

/** Removes from `out` every header a `Connection` value names (case-insensitively). */
function removeConnectionNamed(out: Record<string, string | string[]>, connection: string | string[]): void {
  let named: Set<string> | null = null
  for (const value of Array.isArray(connection) ? connection : [connection]) {
    if (typeof value !== 'string' || CONNECTION_OPTIONS.has(value.toLowerCase())) continue
    named ??= new Set()
    addConnectionTokens(value, named)
  }
  if (named === null) return
  for (const key of Object.keys(out)) if (named.has(key.toLowerCase())) delete out[key]
}

/** `Connection` values that name no end-to-end header (`keep-alive` is hop-by-hop already). */
const CONNECTION_OPTIONS: ReadonlySet<string> = new Set(['keep-alive', 'close'])
