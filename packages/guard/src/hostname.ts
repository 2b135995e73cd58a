/**
 * Hostname normalisation: the one canonical ASCII form every domain check compares.
 */
import { domainToASCII } from 'node:url'

const MAX_HOSTNAME_LENGTH = 253
const MAX_LABEL_LENGTH = 63
/** Inputs longer than this are refused before any Unicode work (IDN can only shrink to 253). */
const MAX_INPUT_LENGTH = 1024
/** Unicode control, format (zero-width, soft hyphen, bidi marks) and separator characters. */
const INVISIBLE_RE = /[\p{Cc}\p{Cf}\p{Z}]/u
/** A label WHATWG URL parsing would read as (part of) an IPv4 address: decimal or 0x-hex. */
const NUMERIC_LABEL_RE = /^(?:[0-9]+|0x[0-9a-f]*)$/

function isLdhChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e
}

/** True for the ASCII characters a host name may be written with (before lower-casing). */
function isHostAsciiChar(c: number): boolean {
  return isLdhChar(c) || (c >= 0x41 && c <= 0x5a)
}

/** Checks an ASCII, lower-case candidate against the LDH grammar; rejects IPv4-looking names. */
function isValidAsciiHostname(host: string): boolean {
  if (host.length === 0 || host.length > MAX_HOSTNAME_LENGTH) return false
  let labelStart = 0
  for (let i = 0; i <= host.length; i++) {
    const c = i === host.length ? 0x2e : host.charCodeAt(i)
    if (c === 0x2e) {
      const len = i - labelStart
      if (len === 0 || len > MAX_LABEL_LENGTH) return false
      if (host.charCodeAt(labelStart) === 0x2d || host.charCodeAt(i - 1) === 0x2d) return false
      labelStart = i + 1
    } else if (!isLdhChar(c)) {
      return false
    }
  }
  const lastLabel = host.slice(host.lastIndexOf('.') + 1)
  return !NUMERIC_LABEL_RE.test(lastLabel)
}

/**
 * Normalises a host name to the form used for every comparison: lower-case ASCII, one trailing
 * dot removed, internationalised labels converted to punycode (`xn--…`, via `node:url`
 * `domainToASCII`, i.e. UTS #46 as browsers do it), LDH labels of 1–63 characters, at most 253 in
 * total. Returns `null` for anything else.
 *
 * Refused: empty input, empty labels, userinfo, ports, paths, queries, fragments, percent-encoding,
 * whitespace, control/format/invisible characters (also where Unicode compatibility mapping would
 * turn them into ASCII punctuation, e.g. a full-width `／` or `＠`), invalid punycode, and IP
 * literals (anything whose last label is numeric or `0x…`, and bracketed IPv6): credentials are
 * bound to names, and addresses are judged separately by `addressVerdict`.
 */
export function normalizeHostname(input: string): string | null {
  if (typeof input !== 'string' || input.length === 0 || input.length > MAX_INPUT_LENGTH) return null
  let ascii = true
  let hasUpper = false
  for (let i = 0; i < input.length; i++) {
    const c = input.charCodeAt(i)
    if (c < 0x80) {
      if (!isHostAsciiChar(c)) return null
      if (c <= 0x5a && c >= 0x41) hasUpper = true
    } else {
      ascii = false
    }
  }

  let host: string
  if (ascii) {
    host = hasUpper ? input.toLowerCase() : input
    if (host.includes('xn--')) {
      // Punycode labels must decode to a valid IDN; domainToASCII returns '' when they do not.
      if (domainToASCII(host) !== host) return null
    }
  } else {
    if (INVISIBLE_RE.test(input)) return null
    // Compatibility forms of ASCII punctuation (full-width solidus, commercial at, …) are refused
    // rather than silently mapped.
    const compat = input.normalize('NFKC')
    for (let i = 0; i < compat.length; i++) {
      const c = compat.charCodeAt(i)
      if (c < 0x80 && !isHostAsciiChar(c)) return null
    }
    host = domainToASCII(input)
    if (host.length === 0) return null
  }

  if (host.charCodeAt(host.length - 1) === 0x2e) host = host.slice(0, -1)
  return isValidAsciiHostname(host) ? host : null
}
