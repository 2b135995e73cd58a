import { type Encoding, isLatin1 } from './encodings.js'
import { forEachEscapedHit } from './escaped-hits.js'
import { scanFormats } from './format-scan.js'
import { asciiHasHit, findHits, type SecretMatcher, tablesOf } from './matcher.js'
import { USER_TOKEN_KIND } from './token-redact.js'
import { TOKEN_VIEW_NEEDLES, userTokenViews } from './token-views.js'
import {
  escapedUserTokenStem,
  hasEncodedPercent,
  joinedRegions,
  MAX_PERCENT_ROUNDS,
  percentDecoded,
  STEM_PERCENT,
} from './views.js'

/** Where in the outbound request something was found. */
export type Where = 'body' | 'query' | 'header' | 'path'

/**
 * One kind of secret found in one place in one encoding, and how many times. `kind` is the secret's
 * label (`credential:…`, `agent-token`) or `format:<id>` for a well-known credential format. Findings
 * never hold the value or its position.
 */
export interface Finding {
  readonly kind: string
  readonly where: Where
  readonly encoding: Encoding
  readonly count: number
}

/** The parts of an outbound request the agent controls. */
export interface OutboundParts {
  /** Decoded body bytes (see decodeBody for compressed bodies). */
  readonly body?: Uint8Array | null
  /** Query string without the leading `?`, as sent (still percent-encoded). */
  readonly query?: string
  /**
   * Flat name/value pairs (`[name, value, name, value, …]`), names and values both scanned. Leave out
   * the header that carries the agent's own Aegis token: it would be found, by design.
   */
  readonly headers?: readonly string[]
  /** Upstream path as sent (still percent-encoded). */
  readonly path?: string
}

export interface InspectOptions {
  /** Also look for well-known credential formats (FORMATS). Default true. */
  readonly formats?: boolean
}

type Counts = Map<string, number>

function bump(counts: Counts, kind: string, encoding: Encoding, by = 1): void {
  const key = `${kind}\u0000${encoding}`
  counts.set(key, (counts.get(key) ?? 0) + by)
}

/** The byte spellings a header/query/path string may stand for: UTF-8, and latin1 when that differs. */
function spellings(text: string): Uint8Array[] {
  const utf8 = Buffer.from(text, 'utf8')
  return utf8.length !== text.length && isLatin1(text) ? [utf8, Buffer.from(text, 'latin1')] : [utf8]
}

function countBytes(bytes: Uint8Array, matcher: SecretMatcher, formats: boolean): Counts {
  const counts: Counts = new Map()
  for (const hit of findHits(matcher, bytes)) bump(counts, hit.kind, hit.encoding)
  if (formats) for (const hit of scanFormats(bytes)) bump(counts, hit.kind, 'raw')
  return counts
}

function totalsByKind(counts: Counts): Map<string, number> {
  const totals = new Map<string, number>()
  for (const [key, n] of counts) {
    const kind = key.slice(0, key.indexOf('\u0000'))
    totals.set(kind, (totals.get(kind) ?? 0) + n)
  }
  return totals
}

/**
 * Counts for one spelling: the direct scan, plus what the views of `views.ts` hold beyond it. A
 * view can only add: per kind, the largest excess over the direct scan counts, as `percent` when
 * the view undid percent-encoding, else in the encoding the view found (base64 across line breaks
 * stays `base64`). `thorough` is for the short parts (query, path, headers): they are decoded
 * wherever they hold an escape, so a secret only partly percent-encoded is found, and their
 * decoded views are also searched for credential formats and have line breaks taken out. A body
 * gets the rest, which costs little on ordinary bodies: its line-break view, and decoding only
 * where it holds `%25` (encoded twice), its decoded views searched for secrets (the format regexes
 * cost several times the secret sweep per byte).
 */
function countWithViews(
  bytes: Uint8Array,
  matcher: SecretMatcher,
  formats: boolean,
  { form, thorough }: { form: boolean; thorough: boolean },
): Counts {
  const counts = countBytes(bytes, matcher, formats)
  const directTotals = totalsByKind(counts)
  const extras: Counts = new Map()
  const keep = (key: string, extra: number): void => {
    if (extra > (extras.get(key) ?? 0)) extras.set(key, extra)
  }
  for (const [key, n] of countEscaped(bytes, matcher)) keep(key, n)
  // An operator token written base64, hex or JSON-escaped (its value is unknown: found by shape).
  const stem = formats ? escapedUserTokenStem(bytes) : 0
  if (formats) {
    for (const view of userTokenViews(bytes, stem)) {
      const n = scanFormats(view.bytes).filter((hit) => hit.kind === USER_TOKEN_KIND).length
      if (n > 0) keep(`${USER_TOKEN_KIND}\u0000${view.encoding}`, n)
    }
  }
  let level = bytes
  for (let round = 0; ; round++) {
    if (round === 0 || thorough) {
      for (const [key, n] of countHiddenByBreaks(level, matcher, round > 0)) keep(key, n)
    }
    // A body is decoded only where it holds an encoded `%`: one layer of percent-encoding is
    // what the matcher's own percent forms catch, so only a second layer needs undoing.
    // A body's decoded views get the format scan only where an operator token (found by shape
    // alone: the gate cannot know its value) is written with escapes.
    const tokenInside =
      formats && !thorough && ((round === 0 ? stem : escapedUserTokenStem(level)) & STEM_PERCENT) !== 0
    if (round === MAX_PERCENT_ROUNDS || (!thorough && !tokenInside && !hasEncodedPercent(level))) break
    const decoded = percentDecoded(level, form)
    if (decoded === null) break
    for (const [kind, n] of totalsByKind(
      countBytes(decoded, matcher, formats && (thorough || tokenInside)),
    )) {
      keep(`${kind}\u0000percent`, n - (directTotals.get(kind) ?? 0))
    }
    // A `#` cannot stand raw in a URL, so an HTML reference there is percent-encoded (`%26%2343%3B`).
    if (thorough) for (const [key, n] of countEscaped(decoded, matcher)) keep(key, n)
    level = decoded
  }
  for (const [key, n] of extras) counts.set(key, (counts.get(key) ?? 0) + n)
  return counts
}

/**
 * The secrets that line breaks inside encoded text hid in `bytes`: matches in the joined regions
 * that cover a join. Counted in the encoding found, or as `percent` for a decoded view.
 */
function countHiddenByBreaks(bytes: Uint8Array, matcher: SecretMatcher, decoded: boolean): Counts {
  const counts: Counts = new Map()
  if (matcher.longest === 0) return counts
  for (const region of joinedRegions(bytes, matcher.longest - 1)) {
    for (const hit of findHits(matcher, region.bytes)) {
      if (hasJoinInside(region.joins, hit.index, hit.index + hit.length)) {
        bump(counts, hit.kind, decoded ? 'percent' : hit.encoding)
      }
    }
  }
  return counts
}

/**
 * Whether a sorted list of joins holds one in (start, end). A binary search: a region with a break
 * between every byte has as many joins as bytes, and a scan of them per hit would be quadratic.
 */
function hasJoinInside(joins: readonly number[], start: number, end: number): boolean {
  let lo = 0
  let hi = joins.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((joins[mid] as number) <= start) lo = mid + 1
    else hi = mid
  }
  return lo < joins.length && (joins[lo] as number) < end
}

/**
 * The secrets written with some characters escaped (`\u002B`, `%2B`, `&#43;`, mixed): matches of
 * the escape view (escapes.ts) that the direct scan did not make at the same place, labelled by
 * the first escape in them (`json-escape`, `percent` or `html`).
 */
function countEscaped(bytes: Uint8Array, matcher: SecretMatcher): Counts {
  const counts: Counts = new Map()
  const t = tablesOf(matcher)
  let direct: Set<string> | null = null
  forEachEscapedHit(t, bytes, (p, start, end) => {
    // Rare (a secret is there): only then is the direct scan repeated, to tell the same match apart.
    direct ??= new Set(findHits(matcher, bytes).map((h) => `${h.index}:${h.index + h.length}`))
    if (direct.has(`${start}:${end}`)) return
    bump(counts, t.kinds[t.kind[p] as number] as string, escapeStyle(bytes, start, end))
  })
  return counts
}

/** How the first escape in bytes[start, end) is written. */
function escapeStyle(bytes: Uint8Array, start: number, end: number): Encoding {
  for (let i = start; i < end; i++) {
    if (bytes[i] === 0x5c) return 'json-escape'
    if (bytes[i] === 0x25) return 'percent'
    if (bytes[i] === 0x26) return 'html'
  }
  return 'raw'
}

/**
 * Printable ASCII without `%`, a backslash, `&` or `+`: nothing to unescape or decode (percent, form, JSON,
 * HTML), no line break to take out, one byte spelling. Most header values, paths and queries.
 */
const PLAIN = /^[\x20-\x24\x27-\x2a\x2c-\x5b\x5d-\x7e]*$/
/** Longer strings take the general path (the scratch sweep holds 4 KiB). */
const PLAIN_MAX = 1024
const NO_COUNTS: Counts = new Map()

/**
 * Whether `text` is plain (see PLAIN) and holds nothing: no secret, no credential format, no
 * operator-token stem in base64 or hex. Every view of `countWithViews` is then empty (escapes,
 * token views, line breaks and percent-decoding each need a byte PLAIN leaves out, or a needle
 * looked for here), so the text has no finding: decided from the string, with no Buffer and no Map.
 */
function plainAndClean(text: string, matcher: SecretMatcher, formats: boolean): boolean {
  if (text.length > PLAIN_MAX || !PLAIN.test(text)) return false
  if (formats) {
    for (const needle of TOKEN_VIEW_NEEDLES) if (text.includes(needle)) return false
    if (scanFormats(text).length > 0) return false
  }
  return asciiHasHit(tablesOf(matcher), text) === false
}

/** Counts for a header, query or path string, over each byte spelling it may stand for. */
function countText(text: string, matcher: SecretMatcher, formats: boolean, form: boolean): Counts {
  if (plainAndClean(text, matcher, formats)) return NO_COUNTS
  const counts: Counts = new Map()
  for (const bytes of spellings(text)) {
    for (const [key, n] of countWithViews(bytes, matcher, formats, { form, thorough: true })) {
      counts.set(key, Math.max(counts.get(key) ?? 0, n))
    }
  }
  return counts
}

/**
 * Look for every secret of `matcher` (in every encoding) and, unless disabled, every well-known
 * credential format, in the agent-controlled parts of an outbound request. Each part is also
 * scanned with its escapes decoded (`escapes.ts`), percent-decoded (up to three times) and without
 * line breaks (see `views.ts`). Returns
 * one finding per (kind, where, encoding); empty means clean.
 */
export function inspectOutbound(
  parts: OutboundParts,
  matcher: SecretMatcher,
  options: InspectOptions = {},
): Finding[] {
  const formats = options.formats ?? true
  const findings: Finding[] = []
  const collect = (where: Where, counts: Counts): void => {
    for (const [key, count] of counts) {
      const [kind = '', encoding = 'raw'] = key.split('\u0000')
      const existing = findings.findIndex(
        (f) => f.kind === kind && f.where === where && f.encoding === encoding,
      )
      const previous = findings[existing]
      if (previous === undefined) findings.push({ kind, where, encoding: encoding as Encoding, count })
      else findings[existing] = { ...previous, count: previous.count + count }
    }
  }
  if (parts.path) collect('path', countText(parts.path, matcher, formats, false))
  if (parts.query) collect('query', countText(parts.query, matcher, formats, true))
  for (const text of parts.headers ?? []) {
    if (text) collect('header', countText(text, matcher, formats, false))
  }
  if (parts.body && parts.body.length > 0) {
    collect('body', countWithViews(parts.body, matcher, formats, { form: false, thorough: false }))
  }
  return findings
}
