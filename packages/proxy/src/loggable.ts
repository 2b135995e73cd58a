import { escapeUnprintable } from '@aegis/guard'
import {
  DEFAULT_REPLACEMENT,
  inspectOutbound,
  redactText,
  type SecretMatcher,
  scanFormats,
} from '@aegis/inspect'
import { requestMatchers } from './caller-token.js'
import type { RequestContext } from './context.js'

/**
 * The one sanitiser for anything the agent chose that the gate logs, stores in the ledger or
 * echoes back in a problem document (path, service segment, method, target host, refusal
 * details quoting them) — whichever stage refused the request. Issue 11: `GET /nosuch/<agent
 * token>` and a `ghp_…` key in a domain-refused path landed in the ledger and the log.
 *
 * Replaced in place: every vault secret in every encoding the matcher knows, the caller's own
 * agent token in every encoding (also without its `aegis_` prefix), any `aegis_…` token by shape,
 * and every well-known key format. Then, where the text holds an escape (`%`, `\`, `&`) or a line
 * break, it is inspected in the decoding views outbound inspection uses: a secret still found
 * there withholds the whole value. Control, bidi and invisible characters are escaped
 * (`escapeUnprintable`: `\u202e`), the length bounded.
 *
 * `inspected`: outbound inspection already searched this text for vault secrets, the caller's
 * token and key formats, in those views, and found none (the path of a request that passed the
 * inspection stage). Only token shapes are then looked for: the format scan costs ~6 µs a path.
 */
export function loggable(ctx: RequestContext, text: string, max: number, inspected = false): string {
  if (text.length === 0) return text
  let out = text
  if (!inspected) {
    const matchers = requestMatchers(ctx)
    for (const matcher of matchers) out = redactText(out, matcher).text
    out = redactShapes(out, true)
    if (ESCAPED.test(out) && hidesSecret(out, matchers)) return DEFAULT_REPLACEMENT
  } else {
    out = redactShapes(out, false)
  }
  out = escapeUnprintable(out)
  return out.length > max ? `${out.slice(0, max)}…` : out
}

/** Characters a decoding view would undo (percent, JSON and HTML escapes, line breaks). */
const ESCAPED = /[%\\&\r\n]/
/**
 * Anything shaped like an Aegis token, at any boundary and in any case: the gate knows other
 * agents' tokens only as hashes. 20 characters after the prefix already carry 120 random bits.
 */
const TOKEN_SHAPE = /aegis_[A-Za-z0-9_-]{20,}/gi
const TOKEN_PREFIX = /aegis_/i
const TOKEN_ANYWHERE = /aegis_[A-Za-z0-9_-]{20,}/i

/** Replaces token shapes and (with `formats`) well-known key formats. */
function redactShapes(text: string, formats: boolean): string {
  const ranges: Array<[number, number]> = []
  if (formats) for (const hit of scanFormats(text)) ranges.push([hit.index, hit.index + hit.length])
  if (TOKEN_PREFIX.test(text)) {
    for (const m of text.matchAll(TOKEN_SHAPE)) ranges.push([m.index, m.index + m[0].length])
  }
  if (ranges.length === 0) return text
  ranges.sort((a, b) => a[0] - b[0])
  let out = ''
  let at = 0
  for (const [start, end] of ranges) {
    if (end <= at) continue
    out += `${text.slice(at, Math.max(at, start))}${DEFAULT_REPLACEMENT}`
    at = end
  }
  return out + text.slice(at)
}

/**
 * Whether agent input that is about to leave the gate outside inspection's reach (a host name,
 * which DNS carries before any body is read) holds a vault secret, the caller's token, a key
 * format or a token shape — raw or in a decoding view.
 */
export function carriesSecret(ctx: RequestContext, text: string): boolean {
  if (TOKEN_PREFIX.test(text) && TOKEN_ANYWHERE.test(text)) return true
  return hidesSecret(text, requestMatchers(ctx))
}

/** Whether a decoding view of `text` still holds a vault secret, the caller's token or a key format. */
function hidesSecret(text: string, matchers: readonly SecretMatcher[]): boolean {
  return matchers.some(
    (matcher, i) => inspectOutbound({ path: text }, matcher, { formats: i === 0 }).length > 0,
  )
}
