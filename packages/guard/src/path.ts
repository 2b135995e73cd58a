/**
 * Gate request-target parsing: `/{service}/{path}?{query}` → parts, refusing anything that could
 * mean something different to the upstream (or to a policy rule on the path) than it does here.
 */

/** A request target split into its parts. Nothing is decoded or re-encoded. */
export interface GatePath {
  ok: true
  /** First segment, `[a-z0-9][a-z0-9_-]*`, or the reserved `_aegis` (internal routes). */
  service: string
  /** The rest of the path, byte for byte, with its leading slash (`/` when there is none). */
  path: string
  /** Everything after the first `?`, without it; `''` when there is none. */
  query: string
  /** Whether the target had a `?` at all (distinguishes `/x?` from `/x`). */
  hasQuery: boolean
  /** The origin-form to send upstream: `path`, plus `?query` when `hasQuery`. */
  forward: string
}

/** Why a request target was refused. `detail` never echoes the (possibly secret-bearing) query. */
export interface GatePathRefusal {
  ok: false
  detail: string
}

export type SplitGatePathResult = GatePath | GatePathRefusal

/** Service names: lower-case letters, digits, `_` and `-`, starting with a letter or digit. */
const SERVICE_RE = /^[a-z0-9][a-z0-9_-]*$/
/** The reserved first segment for the gate's own endpoints. */
export const INTERNAL_SERVICE = '_aegis'
const MAX_SERVICE_LENGTH = 100
/** How many rounds of percent-decoding are examined for hidden dots and separators. */
const MAX_DECODE_DEPTH = 3

const refuse = (detail: string): GatePathRefusal => ({ ok: false, detail })

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30
  const lower = code | 0x20
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10
  return -1
}

/**
 * Decodes every well-formed `%XX` (one round) into the char with that code; anything else is kept.
 * Used to look for ASCII dots, slashes, backslashes and control characters hiding under
 * percent-encoding, so byte-level (not UTF-8) decoding is what is wanted; bytes over 0x7f are then
 * judged as UTF-8 by `nonAsciiProblem`.
 */
function decodeOnce(text: string): string {
  if (!text.includes('%')) return text
  let out = ''
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i)
    if (ch === 0x25 && i + 2 < text.length) {
      const hi = hexValue(text.charCodeAt(i + 1))
      const lo = hexValue(text.charCodeAt(i + 2))
      if (hi >= 0 && lo >= 0) {
        out += String.fromCharCode(hi * 16 + lo)
        i += 2
        continue
      }
    }
    out += text[i]
  }
  return out
}

/** Checks `%` is always followed by two hex digits; returns the offending index or -1. */
function malformedPercentAt(text: string): number {
  let at = text.indexOf('%')
  while (at !== -1) {
    if (hexValue(text.charCodeAt(at + 1)) < 0 || hexValue(text.charCodeAt(at + 2)) < 0) return at
    at = text.indexOf('%', at + 3)
  }
  return -1
}

/** A dot segment, also in the `..;param` form some servers (Tomcat, Jetty) treat as `..`. */
function isDotSegment(segment: string): boolean {
  const semi = segment.indexOf(';')
  const name = semi === -1 ? segment : segment.slice(0, semi)
  return name === '.' || name === '..'
}

/** Strict UTF-8: overlong forms, surrogates, code points past U+10FFFF and stray bytes throw. */
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** The reason `text` (already free of ASCII problems) is unsafe in its NFKC form, or null. */
function compatibilityProblem(text: string, normalized: string): string | null {
  if (isDotSegment(normalized)) return 'dot segment in a Unicode compatibility form'
  let percents = 0
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 0x25) percents++
  for (let i = 0; i < normalized.length; i++) {
    const c = normalized.charCodeAt(i)
    if (c === 0x2f) return 'slash in a Unicode compatibility form'
    if (c === 0x5c) return 'backslash in a Unicode compatibility form'
    if (c < 0x20 || c === 0x7f) return 'control character in a Unicode compatibility form'
    if (c === 0x25 && --percents < 0) return 'percent sign in a Unicode compatibility form'
  }
  return null
}

/**
 * Unicode "default ignorable" code points: zero-width space/joiners (U+200B..U+200D), word joiner
 * (U+2060), BOM (U+FEFF), soft hyphen (U+00AD), U+034F, Mongolian selectors (U+180B..U+180F),
 * bidi controls, variation selectors, tags, Hangul fillers. They render as nothing, and frameworks,
 * search indexes and "sanitisers" commonly strip them, so `.%E2%80%8B.` reaches such an upstream as
 * `..` and `/ad%C2%ADmin` as `/admin` (walking past a policy rule on `/admin`). A path segment is
 * an identifier, and no API needs an invisible character inside one, so any of them is refused
 * anywhere in a decoded segment, not only where removing it would leave a dot segment: that narrower
 * rule would still let an agent split a word that a policy rule names.
 *
 * The one exception is emoji sequences, which APIs do put in paths (Discord reaction endpoints take
 * `❤️` = U+2764 U+FE0F and ZWJ sequences like 👨‍👩‍👧): a presentation selector (U+FE0E/U+FE0F)
 * right after a pictograph (or inside a keycap `1` U+FE0F U+20E3), and a ZWJ (U+200D) between two
 * pictographs. Stripping those changes which emoji is meant but can neither create a dot segment
 * nor split an ASCII word, since the neighbours they require are never ASCII letters or dots (a
 * digit admits the selector only when U+20E3 follows, so `v1%EF%B8%8F` is refused). Invisible
 * characters that are legitimate in text (Persian ZWNJ, Indic ZWJ) are refused too: fail closed.
 */
const IGNORABLE = /\p{Default_Ignorable_Code_Point}/u
const EMOJI_SELECTOR = /(?<=\p{Extended_Pictographic})[\uFE0E\uFE0F]|(?<=[0-9#*])[\uFE0E\uFE0F](?=\u20E3)/gu
const EMOJI_JOINER =
  /(?<=\p{Extended_Pictographic}[\uFE0F\p{Emoji_Modifier}]?)\u200D(?=\p{Extended_Pictographic})/gu

/** Whether `text` holds a default-ignorable code point outside an emoji sequence. */
function hasHiddenCharacter(text: string): boolean {
  if (!IGNORABLE.test(text)) return false
  return IGNORABLE.test(text.replace(EMOJI_JOINER, '').replace(EMOJI_SELECTOR, ''))
}

/**
 * A percent-decoded segment with bytes over 0x7f: they must be strict UTF-8 (an upstream that
 * decodes overlong `%c0%ae` reads `.`), hold no invisible (default-ignorable) code point outside an
 * emoji sequence (see `IGNORABLE`), and the NFKC form must not be a dot segment or carry a separator
 * (`%ef%bc%8e%ef%bc%8e` is U+FF0E twice, `..` to an upstream that normalises).
 */
function nonAsciiProblem(bytes: string): string | null {
  let text: string
  try {
    text = STRICT_UTF8.decode(Buffer.from(bytes, 'latin1'))
  } catch {
    return 'percent-encoded bytes that are not valid UTF-8'
  }
  if (hasHiddenCharacter(text)) return 'invisible (default-ignorable) Unicode character'
  const normalized = text.normalize('NFKC')
  if (normalized !== text && hasHiddenCharacter(normalized)) {
    return 'invisible (default-ignorable) Unicode character in a compatibility form'
  }
  return normalized === text ? null : compatibilityProblem(text, normalized)
}

/** The reason a decoded path segment is unsafe, or null. `level` 0 is the raw text. */
function segmentProblem(segment: string, level: number): string | null {
  if (isDotSegment(segment)) return level === 0 ? 'dot segment' : 'percent-encoded dot segment'
  if (level === 0) return null
  let nonAscii = false
  for (let i = 0; i < segment.length; i++) {
    const c = segment.charCodeAt(i)
    if (c === 0x2f) return 'percent-encoded slash'
    if (c === 0x5c) return 'percent-encoded backslash'
    if (c === 0) return 'percent-encoded NUL'
    if (c < 0x20 || c === 0x7f) return 'percent-encoded control character'
    if (c > 0x7f) nonAscii = true
  }
  // Only segments that decode to bytes over 0x7f pay for UTF-8 decoding and NFKC.
  return nonAscii ? nonAsciiProblem(segment) : null
}

/** Checks one raw path segment at every decoding depth (catches `%2e`, `%252e`, `%25%32%65`). */
function checkSegment(raw: string): string | null {
  let current = raw
  for (let level = 0; level <= MAX_DECODE_DEPTH; level++) {
    const problem = segmentProblem(current, level)
    if (problem !== null) return level > 1 ? `${problem} (multiply encoded)` : problem
    const next = decodeOnce(current)
    if (next === current) return null
    current = next
  }
  return 'too many layers of percent-encoding'
}

/**
 * Splits a raw request-target (`req.url`, as received) into service, path and query.
 *
 * Refused (`ok: false`): anything not in origin-form (absolute-form, authority-form, `*`), a
 * missing or malformed service, `#`, any raw control character/space/DEL/non-ASCII, a raw
 * backslash, malformed `%`, `.`/`..` segments raw or percent-encoded at any depth (also `..;x`),
 * percent-encoded `/`, `\`, NUL or control characters in the path (at any depth), percent-encoded
 * bytes that are not strict UTF-8 (overlong `%c0%ae`), a default-ignorable (invisible) code point
 * outside an emoji sequence (`.%E2%80%8B.`, BOM, soft hyphen), a segment whose NFKC form is a dot
 * segment or holds a `/`, `\`, control or new `%` (fullwidth `%ef%bc%8e`, U+2024/U+2025), an empty segment
 * right after the service (`/svc//host/x`, which some URL joiners read as a new authority), and a
 * `%00` or malformed `%` in the query. The service `_aegis` is returned as is; callers route it to
 * the internal endpoints before any service lookup.
 */
export function splitGatePath(rawUrl: string): SplitGatePathResult {
  if (typeof rawUrl !== 'string' || rawUrl.length === 0) return refuse('empty request target')
  if (rawUrl.charCodeAt(0) !== 0x2f) return refuse('request target must start with "/"')
  for (let i = 0; i < rawUrl.length; i++) {
    const c = rawUrl.charCodeAt(i)
    if (c <= 0x20 || c >= 0x7f) {
      return refuse(
        c === 0 ? 'NUL in request target' : 'control, space or non-ASCII character in request target',
      )
    }
    if (c === 0x23) return refuse('fragment ("#") in request target')
    if (c === 0x5c) return refuse('backslash in request target')
  }

  const qAt = rawUrl.indexOf('?')
  const hasQuery = qAt !== -1
  const pathPart = hasQuery ? rawUrl.slice(0, qAt) : rawUrl
  const query = hasQuery ? rawUrl.slice(qAt + 1) : ''

  const slashAt = pathPart.indexOf('/', 1)
  const service = slashAt === -1 ? pathPart.slice(1) : pathPart.slice(1, slashAt)
  if (service.length === 0) return refuse('missing service name')
  if (service.length > MAX_SERVICE_LENGTH) return refuse('service name too long')
  if (service !== INTERNAL_SERVICE && !SERVICE_RE.test(service)) {
    return refuse('invalid service name (expected lower-case letters, digits, "_" or "-")')
  }

  const path = slashAt === -1 ? '/' : pathPart.slice(slashAt)
  if (malformedPercentAt(path) !== -1) return refuse('malformed percent-encoding in path')
  if (path.startsWith('//')) return refuse('empty path segment after the service')
  let start = 1
  while (start <= path.length) {
    let end = path.indexOf('/', start)
    if (end === -1) end = path.length
    const problem = checkSegment(path.slice(start, end))
    if (problem !== null) return refuse(`${problem} in path`)
    start = end + 1
  }

  if (hasQuery) {
    if (malformedPercentAt(query) !== -1) return refuse('malformed percent-encoding in query')
    if (/%00/.test(query)) return refuse('percent-encoded NUL in query')
  }

  const forward = hasQuery ? `${path}?${query}` : path
  return { ok: true, service, path, query, hasQuery, forward }
}
