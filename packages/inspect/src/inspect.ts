import { type Encoding, isLatin1 } from './encodings.ts'
import { scanFormats } from './format-scan.ts'
import { findHits, type SecretMatcher } from './matcher.ts'

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

function isHex(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66)
}

/** Lenient percent-decoding (malformed escapes stay as they are); `+` is a space when `form`. */
function percentDecode(bytes: Uint8Array, form: boolean): Uint8Array {
  const out = new Uint8Array(bytes.length)
  let o = 0
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number
    const h = bytes[i + 1]
    const l = bytes[i + 2]
    if (b === 0x25 && h !== undefined && l !== undefined && isHex(h) && isHex(l)) {
      out[o++] = Number.parseInt(String.fromCharCode(h, l), 16)
      i += 2
    } else {
      out[o++] = form && b === 0x2b ? 0x20 : b
    }
  }
  return out.subarray(0, o)
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

function countText(
  text: string,
  matcher: SecretMatcher,
  formats: boolean,
  decode: 'path' | 'query' | null,
): Counts {
  const counts: Counts = new Map()
  for (const bytes of spellings(text)) {
    const direct = countBytes(bytes, matcher, formats)
    for (const [key, n] of direct) counts.set(key, Math.max(counts.get(key) ?? 0, n))
    if (decode === null || !bytes.includes(0x25)) continue
    // Decode once and scan again: this catches secrets only partly percent-encoded. Per kind, only
    // what the decoded text holds beyond the direct scan counts, as a percent-encoded finding.
    const decoded = countBytes(percentDecode(bytes, decode === 'query'), matcher, formats)
    const directTotals = totalsByKind(direct)
    for (const [kind, n] of totalsByKind(decoded)) {
      const extra = n - (directTotals.get(kind) ?? 0)
      if (extra > 0) bump(counts, kind, 'percent', extra)
    }
  }
  return counts
}

/**
 * Look for every secret of `matcher` (in every encoding) and, unless disabled, every well-known
 * credential format, in the agent-controlled parts of an outbound request. Query and path are also
 * scanned once percent-decoded. Returns one finding per (kind, where, encoding); empty means clean.
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
  if (parts.path) collect('path', countText(parts.path, matcher, formats, 'path'))
  if (parts.query) collect('query', countText(parts.query, matcher, formats, 'query'))
  for (const text of parts.headers ?? []) {
    if (text) collect('header', countText(text, matcher, formats, null))
  }
  if (parts.body && parts.body.length > 0) collect('body', countBytes(parts.body, matcher, formats))
  return findings
}
