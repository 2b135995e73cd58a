import { Readable, type Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import {
  containsSecretIgnoringCase,
  createDecoder,
  createRedactor,
  mayHoldQuotedPrintable,
  type RedactStream,
  recordFraming,
  redactParts,
  redactStream,
  redactText,
  type SecretMatcher,
} from '@aegis/inspect'
import { responseCharset, Utf16ToUtf8, utf8ContentType } from './charset.js'
import { UnredactableResponseError } from './coding.js'
import type { UpstreamBody } from './exchange.js'
import { CompressedCount, ExpansionLimit } from './expansion.js'

/** Bodies up to this size are redacted whole, so their Content-Length stays exact. */
const BUFFER_LIMIT = 64 * 1024

export interface RedactedResponse {
  headers: Record<string, string | string[]>
  /** The body as a stream (made once, on first use, for a buffered body). */
  body(): Readable
  /** The whole redacted body, in parts, when it was small enough to buffer; else null. */
  parts: Buffer[] | null
  /** Replacements made so far (final once the body has been read). */
  redactions(): number
}

/**
 * Replaces every vault secret (in every encoding) in the response headers and body before the
 * agent sees it — whatever the upstream echoes. A body with a content `coding` (from
 * `responseCoding`, which read the raw headers) is decoded first and sent uncompressed; past
 * `decodedFloor` bytes it may expand at most MAX_EXPANSION-fold, else it is cut off with a
 * `ResponseTooLargeError` (a compression bomb costs the gate a bounded multiple). Small bodies
 * are redacted whole and keep an exact Content-Length; larger ones stream through the redactor
 * (chunked, no Content-Length), which holds back only what a secret split across chunks needs.
 * An SSE or JSON-lines body is also redacted across its records (a credential an LLM streams back
 * a few characters per event), both ways.
 *
 * `headers` must be the caller's own object (`forwardResponseHeaders` makes one per response): it
 * is redacted in place and becomes the response's headers. The result is immediate when the body
 * is streamed or already complete (a small answer usually arrives with its headers); only a small
 * body still on its way is waited for.
 */
export function redactResponse(
  status: number,
  method: string,
  headers: Record<string, string | string[]>,
  coding: string | null,
  body: UpstreamBody,
  matcher: SecretMatcher,
  decodedFloor: number,
): RedactedResponse | Promise<RedactedResponse> {
  let count = redactHeaders(headers, matcher)
  if (method === 'HEAD' || status === 204 || status === 304) {
    // No body follows. A 304's (and a HEAD's) Content-Length describes the representation, and
    // stays; a 204 must not have one (RFC 9110 §8.6), nor the bytes an upstream sent after it.
    if (status === 204) delete headers['content-length']
    return { headers, body: () => body.stream(), parts: null, redactions: () => count }
  }

  let charset: ReturnType<typeof responseCharset>
  try {
    // A body in UTF-16 holds a secret as other bytes than the matcher's: it is transcoded first.
    charset = responseCharset(headers['content-type'])
  } catch (error) {
    body.destroy()
    throw error
  }
  const identity = coding === null && charset === null
  // SSE and JSON lines: a secret split across records (an LLM's text deltas) is redacted too; a
  // MIME multipart or message is read as quoted-printable too (`=3D`, soft line breaks).
  const type = headers['content-type']
  const options = { records: recordFraming(type), quotedPrintable: mayHoldQuotedPrintable(type) }
  // The agent gets the body uncompressed, whatever the upstream labelled it.
  delete headers['content-encoding']
  const declared = Number(headers['content-length'])
  if (identity && Number.isSafeInteger(declared) && declared <= BUFFER_LIMIT) {
    const whole = (arrived: Buffer[]): RedactedResponse => {
      let parts = arrived
      // The usual answer holds no secret: its parts go out as they came, never joined or copied.
      const redacted = redactParts(parts, matcher, options)
      if (redacted !== null) {
        count += redacted.count
        parts = [redacted.bytes]
      }
      let length = 0
      for (const part of parts) length += part.length
      headers['content-length'] = String(length)
      let stream: Readable | null = null
      const once = () => {
        stream ??= Readable.from(parts)
        return stream
      }
      return { headers, body: once, parts, redactions: () => count }
    }
    const arrived = body.takeEnded()
    return arrived === null ? body.readParts().then(whole) : whole(arrived)
  }

  delete headers['content-length']
  if (identity) {
    // The redactor runs inside the exchange, chunk by chunk, with no Transform stream.
    const redactor = createRedactor(matcher, options)
    const stream = body.stream(redactor)
    return { headers, body: () => stream, parts: null, redactions: () => count + redactor.count }
  }
  const stages: Transform[] = []
  let compressed: CompressedCount | null = null
  if (coding !== null) {
    const inflate = createDecoder(coding)
    if (inflate === null) {
      // responseCoding() passes only decodable codings; never send what was not redacted.
      body.destroy()
      throw new UnredactableResponseError('the upstream sent a content coding the gate cannot decode')
    }
    // A compression bomb is cut off past `decodedFloor` bytes (see ExpansionLimit).
    compressed = new CompressedCount()
    stages.push(inflate, new ExpansionLimit(compressed, decodedFloor))
  }
  let asSent: RedactStream | null = null
  if (charset !== null) {
    // The bytes as sent are redacted too: read as UTF-16, a mislabelled UTF-8 secret would become
    // text that gives the secret back when encoded as UTF-16 again.
    asSent = redactStream(matcher)
    stages.push(asSent, new Utf16ToUtf8(charset))
    headers['content-type'] = utf8ContentType(headers['content-type'] as string | string[])
  }
  // Compressed or UTF-16: decode, redact, send it uncompressed in UTF-8. One pipeline, so a reader
  // that goes away tears it all down, down to the upstream request.
  const redactor = redactStream(matcher, options)
  pipeline([body.stream(compressed ?? undefined), ...stages, redactor]).catch(() => undefined)
  return {
    headers,
    body: () => redactor,
    parts: null,
    redactions: () => count + redactor.count + (asSent?.count ?? 0),
  }
}

/**
 * Header names found to hold no secret, per matcher (a vault change brings a new one): an upstream
 * sends the same few names on every answer, and scanning each twice cost ~1 µs an answer. Bounded:
 * names an upstream invents fill it once, and are scanned every time after that.
 */
const cleanNames = new WeakMap<SecretMatcher, Set<string>>()
const MAX_CLEAN_NAMES = 256

/** How many secrets a header name holds (at least 1 when any, 0 when none). */
function secretsInName(name: string, matcher: SecretMatcher): number {
  let clean = cleanNames.get(matcher)
  if (clean?.has(name)) return 0
  // The exact check also finds an escaped spelling and a name that ends in a secret's start.
  const exact = redactText(name, matcher).count
  if (exact > 0 || containsSecretIgnoringCase(name, matcher)) return Math.max(exact, 1)
  if (clean === undefined) {
    clean = new Set()
    cleanNames.set(matcher, clean)
  }
  if (clean.size < MAX_CLEAN_NAMES) clean.add(name)
  return 0
}

/**
 * Redacts every header value in place, and drops every header whose name holds a secret (a name has
 * no redacted form: `[REDACTED]` is no token). Names are compared without regard to case: undici
 * lower-cases them, and a secret lower-cased still gives it away. Returns the replacements made.
 */
function redactHeaders(headers: Record<string, string | string[]>, matcher: SecretMatcher): number {
  let count = 0
  const shortest = matcher.minLength
  for (const name in headers) {
    if (name.length >= shortest) {
      const held = secretsInName(name, matcher)
      if (held > 0) {
        count += held
        delete headers[name]
        continue
      }
    }
    const value = headers[name] as string | string[]
    // A value shorter than any secret cannot hold one (encodings are never shorter).
    if (typeof value === 'string') {
      if (value.length < shortest) continue
      const r = redactText(value, matcher)
      if (r.count > 0) {
        count += r.count
        headers[name] = r.text
      }
    } else {
      headers[name] = value.map((v) => {
        const r = redactText(v, matcher)
        count += r.count
        return r.text
      })
    }
  }
  return count
}
