/**
 * Credential domain allowlists: pattern parsing (with public-suffix protection for wildcards), the
 * X-Target-Host grammar, and matching a target against an allowlist.
 */
import { createRequire } from 'node:module'
import { normalizeHostname } from './hostname.js'

/** One allowlist entry, normalised. */
export interface DomainPattern {
  /** Canonical text, e.g. `*.slack.com`, `api.x.com:8443`, `xn--bcher-kva.de`. */
  text: string
  /** The exact host, or for a wildcard the suffix it covers (`slack.com` for `*.slack.com`). */
  host: string
  /** `*.host`: matches exactly one extra leftmost label. */
  wildcard: boolean
  /** A port the entry is restricted to; `null` means the default, 443. */
  port: number | null
}

export type ParseDomainPatternResult = { ok: true; pattern: DomainPattern } | { ok: false; reason: string }

export type ParseTargetHostResult =
  | { ok: true; host: string; port: number | null }
  | { ok: false; detail: string }

/** The port a target without an explicit port is dialled on. */
export const DEFAULT_PORT = 443
const PORT_RE = /^[1-9][0-9]{0,4}$/
const IP_LIKE_RE = /^(?:[0-9.]+|0x[0-9a-f.x]*|\[.*|[0-9a-f:]*:[0-9a-f:.]*)$/i
const TLDTS_OPTIONS = { allowPrivateDomains: true, extractHostname: false } as const

type Tldts = typeof import('tldts')
let tldts: Tldts | null = null

/**
 * The public suffix of `host` (e.g. `co.uk`), or null. The public-suffix list is several MB in
 * memory and only wildcard patterns need it, so it is loaded on first use.
 */
function publicSuffix(host: string): string | null {
  tldts ??= createRequire(import.meta.url)('tldts') as Tldts
  return tldts.getPublicSuffix(host, TLDTS_OPTIONS)
}

function parsePort(text: string): number | null {
  if (!PORT_RE.test(text)) return null
  const port = Number(text)
  return port <= 65535 ? port : null
}

/** Why a host-name candidate is not a host name: the common mistakes, named. */
function describeBadHost(host: string): string {
  if (host.includes('://')) return 'must be a host name, not a URL'
  if (host.includes('@')) return 'must not contain userinfo ("@")'
  if (host.includes('/') || host.includes('\\')) return 'must not contain a path'
  if (host.includes('?') || host.includes('#')) return 'must not contain a query or fragment'
  if (host.includes('%')) return 'must not be percent-encoded'
  if (IP_LIKE_RE.test(host)) return 'IP addresses are not allowed, use a host name'
  if (/\s/.test(host)) return 'must not contain whitespace'
  return 'is not a valid host name'
}

/**
 * Parses one allowlist entry: `host`, `*.suffix`, either optionally with `:port` (1–65535).
 * Surrounding whitespace is trimmed; the host part is normalised like `normalizeHostname`.
 * A wildcard is exactly one leftmost `*.` label, and its suffix must not be a public suffix
 * (ICANN or private section of the Public Suffix List, via `tldts`; an unknown TLD counts as
 * one): `*.com`, `*.co.uk`, `*.github.io` are refused, `*.slack.com` is accepted.
 */
export function parseDomainPattern(input: string): ParseDomainPatternResult {
  const fail = (why: string): ParseDomainPatternResult => ({
    ok: false,
    reason: `Invalid domain "${input}": ${why}`,
  })
  if (typeof input !== 'string') return { ok: false, reason: 'Invalid domain: not a string' }
  const text = input.trim()
  if (text.length === 0) return fail('empty')
  if (text.includes('://')) return fail('must be a host name, not a URL')

  let hostPart = text
  let port: number | null = null
  const colon = text.lastIndexOf(':')
  if (colon !== -1 && !text.startsWith('[') && text.indexOf(':') === colon) {
    port = parsePort(text.slice(colon + 1))
    if (port === null) return fail('port must be a number from 1 to 65535')
    hostPart = text.slice(0, colon)
  }

  let wildcard = false
  if (hostPart.startsWith('*.')) {
    wildcard = true
    hostPart = hostPart.slice(2)
  }
  if (hostPart.includes('*')) {
    return fail('a wildcard must be exactly one leftmost "*." label, as in *.example.com')
  }

  const host = normalizeHostname(hostPart)
  if (host === null) return fail(describeBadHost(hostPart))

  if (wildcard) {
    const suffix = publicSuffix(host)
    if (suffix === null || suffix === host) {
      return fail(`wildcard would cover the public suffix "${host}"; use *.yourdomain.${host}`)
    }
  }
  const base = wildcard ? `*.${host}` : host
  return { ok: true, pattern: { text: port === null ? base : `${base}:${port}`, host, wildcard, port } }
}

/**
 * Parses an `X-Target-Host` header value: `host` or `host:port`. Refuses empty values, commas
 * (several values joined by an intermediary), userinfo, paths, queries, fragments, percent-encoding,
 * whitespace and control characters, brackets and IP literals. The host is normalised like
 * `normalizeHostname`. `detail` never echoes the value.
 */
export function parseTargetHost(header: string): ParseTargetHostResult {
  const fail = (detail: string): ParseTargetHostResult => ({ ok: false, detail: `X-Target-Host ${detail}` })
  if (typeof header !== 'string' || header.length === 0) return fail('is empty')
  // Before the whitespace check: Node joins a repeated header with ", ", and that is the problem to name.
  if (header.includes(',')) return fail('must be a single value')
  for (let i = 0; i < header.length; i++) {
    const c = header.charCodeAt(i)
    if (c <= 0x20 || c === 0x7f) return fail('must not contain whitespace or control characters')
  }
  if (header.includes('[') || header.includes(']')) return fail('must be a host name, not an IP literal')

  let hostPart = header
  let port: number | null = null
  const colon = header.indexOf(':')
  if (colon !== -1) {
    if (header.includes('://')) return fail('must be a host name, not a URL')
    if (header.indexOf(':', colon + 1) !== -1) return fail('must be a host name, not an IP literal')
    const tail = header.slice(colon + 1)
    // `host:443/path`, `host:443@evil`: name the real problem, not the port.
    if (!/^[0-9]*$/.test(tail)) return fail(describeBadHost(tail))
    port = parsePort(tail)
    if (port === null) return fail('port must be a number from 1 to 65535')
    hostPart = header.slice(0, colon)
  }
  const host = normalizeHostname(hostPart)
  if (host === null) return fail(describeBadHost(hostPart))
  return { ok: true, host, port }
}

/** True when `host` (normalised) is `suffix` plus exactly one more leftmost label. */
function coversOneLevel(suffix: string, host: string): boolean {
  const cut = host.length - suffix.length - 1
  return cut > 0 && host.charCodeAt(cut) === 0x2e && host.endsWith(suffix) && host.indexOf('.') === cut
}

/**
 * The first allowlist entry that admits `host` on `port` (`null` = 443), or null.
 * `host` must already be normalised (`parseTargetHost` / `normalizeHostname`); anything else simply
 * does not match. Ports: an entry without a port admits only 443; an entry with a port admits only
 * that port.
 */
export function findAllowlistMatch(
  host: string,
  port: number | null,
  patterns: readonly DomainPattern[],
): DomainPattern | null {
  const want = port ?? DEFAULT_PORT
  for (const pattern of patterns) {
    if ((pattern.port ?? DEFAULT_PORT) !== want) continue
    if (pattern.wildcard ? coversOneLevel(pattern.host, host) : pattern.host === host) return pattern
  }
  return null
}

/**
 * Whether `host:port` is admitted by the allowlist: an exact host, or a single-level wildcard
 * (`*.slack.com` admits `a.slack.com`, not `slack.com` nor `a.b.slack.com`), on port 443 unless
 * the matching entry names the port. See `findAllowlistMatch`.
 */
export function matchesAllowlist(
  host: string,
  port: number | null,
  patterns: readonly DomainPattern[],
): boolean {
  return findAllowlistMatch(host, port, patterns) !== null
}

/** The default upstream when no X-Target-Host is given: the first non-wildcard entry, or null. */
export function defaultTarget(patterns: readonly DomainPattern[]): DomainPattern | null {
  for (const pattern of patterns) if (!pattern.wildcard) return pattern
  return null
}
