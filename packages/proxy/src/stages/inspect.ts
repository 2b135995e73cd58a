import { type Refusal, rateLimited, refuse } from '@aegis/guard'
import {
  DecodeError,
  decodeBodyAsync,
  describeCoding,
  type Finding,
  inspectOutbound,
  isDecodable,
  listCodings,
} from '@aegis/inspect'
import { requestMatchers } from '../caller-token.js'
import type { RequestContext } from '../context.js'
import type { Stage } from '../pipeline.js'
import type { StageResult } from '../types.js'
import { collectBody } from '../upstream/collect.js'
import { requestHeaderValues, upstreamHeaders } from '../upstream/headers.js'
import { DecodeSlots } from './decode-slots.js'

/**
 * How far a compressed body may expand for scanning, relative to the body size limit. 4: JSON and
 * text a client compresses shrink 3-5x, so a body well under the limit still decodes; the scan
 * that follows holds the event loop, and at 4 MiB (the default 1 MiB limit) it stays near 20 ms
 * at the 200 MB/s inspection floor — at the former 8 it was twice that, for a 15-byte brotli bomb.
 */
export const DECODE_FACTOR = 4

/**
 * Decodes at once, per gate: zlib runs them on libuv's thread pool (4 threads by default), so 2
 * leaves the others to DNS lookups and file I/O however many bombs arrive together.
 */
const DECODE_SLOTS = 2

/** Decodes that may wait for a slot; past this a compressed body is refused (429, retry in 1 s). */
const DECODE_QUEUE = 32

/** `kind in where (encoding)`, for the agent (no values, ever). */
function describe(findings: readonly Finding[]): string {
  return findings
    .slice(0, 5)
    .map((f) => `${f.kind} in the ${f.where}${f.encoding === 'raw' ? '' : ` (${f.encoding})`}`)
    .join(', ')
}

/** The ledger's short form: `warn:credential:slack-bot:body,format:github-token:query`. */
function summary(findings: readonly Finding[]): string {
  const text = `warn:${findings.map((f) => `${f.kind}:${f.where}`).join(',')}`
  return text.length > 200 ? text.slice(0, 200) : text
}

async function readBody(
  ctx: RequestContext,
  limit: number,
): Promise<Uint8Array | null | 'too_large' | 'unreadable'> {
  const body = ctx.req.body
  if (body === null || body instanceof Uint8Array) return body
  let bytes: Buffer | null
  try {
    bytes = await collectBody(body, limit)
  } catch {
    return 'unreadable'
  }
  if (bytes === null) return 'too_large'
  ctx.bodyBytes = bytes
  return bytes
}

/**
 * The refusal for request codings the gate cannot undo, else the one content coding to undo (or
 * null). Every value of every `Content-Encoding` and `Transfer-Encoding` line counts: an upstream
 * reads `identity` + `gzip` on two lines as `identity, gzip`, that is gzip.
 */
function requestCoding(rawHeaders: readonly string[]): { coding: string | null } | Refusal {
  const transfer = listCodings(requestHeaderValues(rawHeaders, 'transfer-encoding'))
  if (transfer.length > 1 || (transfer.length === 1 && transfer[0] !== 'chunked')) {
    const other = transfer.find((c) => c !== 'chunked') ?? 'chunked'
    return refuse(
      'bad_request',
      `Transfer-Encoding ${describeCoding(other)} is not accepted: send the body with Content-Length or chunked alone`,
    )
  }
  const content = listCodings(requestHeaderValues(rawHeaders, 'content-encoding'))
  if (content.length > 1) {
    return refuse(
      'body_inspection',
      `The request body has ${content.length} content codings stacked (${content.map(describeCoding).join(', ')}); the gate inspects a body with one`,
    )
  }
  const coding = content[0] ?? null
  if (coding !== null && !isDecodable(coding)) {
    return refuse(
      'body_inspection',
      `The request body's content coding ${describeCoding(coding)} cannot be decoded for inspection (gzip, deflate and br can)`,
    )
  }
  return { coding }
}

/**
 * Outbound inspection (per credential: off, warn, block). The body, query, path and every header
 * that would be forwarded are searched for any vault secret and the caller's own agent token, in
 * raw and encoded forms, and for well-known credential formats. A compressed body is decoded for
 * scanning off the event loop, at most `DECODE_SLOTS` at a time, and to at most `DECODE_FACTOR` ×
 * the body limit; one that cannot be decoded is refused. Findings are counted, never stored.
 */
export function inspection(maxBodySize: number, stripHeaders: ReadonlySet<string>): Stage {
  const slots = new DecodeSlots(DECODE_SLOTS, DECODE_QUEUE)
  const decodedLimit = maxBodySize * DECODE_FACTOR

  /** Reads (and decodes) a streamed body, then inspects: the only path that waits. */
  async function readThenInspect(ctx: RequestContext, coding: string | null): Promise<StageResult> {
    const body = await readBody(ctx, maxBodySize)
    if (body === 'unreadable') {
      // The client hung up (or its stream failed) before the body was complete.
      return refuse('bad_request', 'The request body ended before it was complete')
    }
    if (body === 'too_large') {
      return refuse('body_too_large', `Request body is over the limit of ${maxBodySize} bytes`, {
        limit: maxBodySize,
      })
    }
    if (body === null || body.length === 0 || coding === null) return inspect(ctx, body, stripHeaders)
    const waiting = slots.acquire()
    if (waiting === null) {
      ctx.rateLimit = 'gate'
      return rateLimited('Too many compressed request bodies are being inspected; retry shortly', 1000)
    }
    const release = await waiting
    let decoded: Uint8Array
    try {
      decoded = await decodeBodyAsync(body, [coding], decodedLimit)
    } catch (error) {
      const why = error instanceof DecodeError ? error.code : 'corrupt'
      if (why === 'too_large') {
        return refuse(
          'body_too_large',
          `The ${coding} request body decodes to more than ${decodedLimit} bytes (${DECODE_FACTOR} × the body limit); it was not inspected`,
          { limit: maxBodySize, decodedLimit },
        )
      }
      return refuse('body_inspection', `The request body could not be decoded for inspection (${why})`)
    } finally {
      release()
    }
    return inspect(ctx, decoded, stripHeaders)
  }

  return (ctx) => {
    const credential = ctx.credential
    if (credential === null || credential.bodyInspection === 'off') return undefined
    // Header-only refusals come before the body is read.
    const decided = requestCoding(ctx.req.rawHeaders)
    if (!('coding' in decided)) return decided
    const body = ctx.req.body
    // No body to wait for (a GET, or one already in memory, uncompressed): decided in this turn.
    if (body === null) return inspect(ctx, null, stripHeaders)
    if (body instanceof Uint8Array && decided.coding === null) return inspect(ctx, body, stripHeaders)
    return readThenInspect(ctx, decided.coding)
  }
}

/** Searches what would be forwarded; refuses (`block`) or notes (`warn`) what it finds. */
function inspect(
  ctx: RequestContext,
  body: Uint8Array | null,
  stripHeaders: ReadonlySet<string>,
): StageResult {
  const credential = ctx.credential
  if (credential === null) return undefined
  const parts = {
    body,
    query: ctx.query,
    headers: upstreamHeaders(ctx, stripHeaders),
    path: ctx.path,
  }
  // Credential formats are searched for once, with the first matcher.
  const findings: Finding[] = []
  requestMatchers(ctx).forEach((matcher, i) => {
    findings.push(...inspectOutbound(parts, matcher, { formats: i === 0 }))
  })
  if (findings.length === 0) return undefined
  ctx.pathCarriesSecret = findings.some((f) => f.where === 'path')
  if (credential.bodyInspection === 'block') {
    return refuse('body_inspection', `The request carries a secret: ${describe(findings)}`, {
      found: [...new Set(findings.map((f) => f.kind))],
    })
  }
  ctx.inspection = summary(findings)
  return undefined
}
