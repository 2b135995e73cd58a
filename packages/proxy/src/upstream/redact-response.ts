import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import {
  createDecoder,
  createRedactor,
  redactParts,
  redactStream,
  redactText,
  type SecretMatcher,
} from '@aegis/inspect'
import { UnredactableResponseError } from './coding.js'
import type { UpstreamBody } from './exchange.js'

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
 * `responseCoding`, which read the raw headers) is decoded first and sent uncompressed. Small bodies
 * are redacted whole and keep an exact Content-Length; larger ones stream through the redactor
 * (chunked, no Content-Length), which holds back only what a secret split across chunks needs.
 */
export async function redactResponse(
  status: number,
  method: string,
  headers: Record<string, string | string[]>,
  coding: string | null,
  body: UpstreamBody,
  matcher: SecretMatcher,
): Promise<RedactedResponse> {
  let count = 0
  const out: Record<string, string | string[]> = Object.create(null)
  const shortest = matcher.minLength
  for (const name in headers) {
    const value = headers[name] as string | string[]
    // A value shorter than any secret cannot hold one (encodings are never shorter).
    if (typeof value === 'string' && value.length < shortest) {
      out[name] = value
      continue
    }
    if (Array.isArray(value)) {
      out[name] = value.map((v) => {
        const r = redactText(v, matcher)
        count += r.count
        return r.text
      })
    } else {
      const r = redactText(value, matcher)
      count += r.count
      out[name] = r.text
    }
  }
  if (method === 'HEAD' || status === 204 || status === 304) {
    return { headers: out, body: () => body.stream(), parts: null, redactions: () => count }
  }

  const identity = coding === null
  // The agent gets the body uncompressed, whatever the upstream labelled it.
  delete out['content-encoding']
  const declared = Number(out['content-length'])
  if (identity && Number.isSafeInteger(declared) && declared <= BUFFER_LIMIT) {
    let parts = await body.readParts()
    // The usual answer holds no secret: its parts go out as they came, never joined or copied.
    const redacted = redactParts(parts, matcher)
    if (redacted !== null) {
      count += redacted.count
      parts = [redacted.bytes]
    }
    let length = 0
    for (const part of parts) length += part.length
    out['content-length'] = String(length)
    let stream: Readable | null = null
    const once = () => {
      stream ??= Readable.from(parts)
      return stream
    }
    return { headers: out, body: once, parts, redactions: () => count }
  }

  delete out['content-length']
  if (identity) {
    // The redactor runs inside the exchange, chunk by chunk, with no Transform stream.
    const redactor = createRedactor(matcher)
    const stream = body.stream(redactor)
    return { headers: out, body: () => stream, parts: null, redactions: () => count + redactor.count }
  }
  const inflate = createDecoder(coding)
  if (inflate === null) {
    // responseCoding() passes only decodable codings; never send what was not redacted.
    body.destroy()
    throw new UnredactableResponseError('the upstream sent a content coding the gate cannot decode')
  }
  // Compressed: decode, redact, send it uncompressed. One pipeline, so a reader that goes away
  // tears down all three, down to the upstream request.
  const redactor = redactStream(matcher)
  pipeline(body.stream(), inflate, redactor).catch(() => undefined)
  return { headers: out, body: () => redactor, parts: null, redactions: () => count + redactor.count }
}
