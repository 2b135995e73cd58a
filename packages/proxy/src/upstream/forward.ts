import { Readable } from 'node:stream'
import { forwardResponseHeaders } from '@aegis/guard'
import type { Dispatcher, Pool } from 'undici'
import type { RequestContext } from '../context.js'
import { credentialHeaderName, credentialHeaderValue, upstreamQuery } from '../inject.js'
import { ByteLimit } from './body.js'
import { responseCoding } from './coding.js'
import { collectBody } from './collect.js'
import { type UpstreamBody, UpstreamExchange } from './exchange.js'
import { upstreamHeaders } from './headers.js'

export interface ForwardLimits {
  maxBodySize: number
  /** Deadline from forwarding until the response headers are complete, and the longest body pause. */
  requestTimeoutMs: number
  /** Extra request header names never forwarded (lower-case; `gate.strip_request_headers`). */
  stripHeaders: ReadonlySet<string>
}

export interface UpstreamResponse {
  status: number
  headers: Record<string, string | string[]>
  /** The content coding to undo before redaction (see `responseCoding`), or null. */
  coding: string | null
  body: UpstreamBody
  /** Request body bytes sent upstream. */
  bytesIn(): number
}

/** Declared bodies up to this size are read whole and sent with the request head in one write. */
const SMALL_BODY = 64 * 1024

type PreparedBody = { body: Uint8Array | Readable | null; counter: () => number }

const NO_BODY: PreparedBody = { body: null, counter: () => 0 }

/** The body to send: at once when there is none or it is in memory; a small streamed one is read first. */
function requestBody(ctx: RequestContext, limits: ForwardLimits): PreparedBody | Promise<PreparedBody> {
  // A body a stage already read whole (inspection) is forwarded from memory.
  const body = ctx.bodyBytes ?? ctx.req.body
  if (body === null) return NO_BODY
  if (body instanceof Uint8Array) return { body, counter: () => body.byteLength }
  const declared = ctx.req.contentLength
  if (declared !== null && declared <= SMALL_BODY && declared <= limits.maxBodySize) {
    // No stream machinery for the common small JSON body. The HTTP parser never delivers more than
    // the declared length; fewer bytes (the client hung up) is a failure to forward.
    return collectBody(body, declared).then((bytes) => {
      if (bytes === null || bytes.byteLength !== declared) throw new IncompleteBodyError(declared)
      return { body: bytes, counter: () => bytes.byteLength }
    })
  }
  const limit = new ByteLimit(limits.maxBodySize)
  body.on('error', (error) => limit.destroy(error))
  body.pipe(limit)
  return { body: limit, counter: () => limit.passed }
}

/** The client's request body ended before its declared length. */
export class IncompleteBodyError extends Error {
  constructor(declared: number) {
    super(`The request body ended before its declared ${declared} bytes`)
    this.name = 'IncompleteBodyError'
  }
}

/** The client went away before the upstream answered: the exchange was given up. */
export class ClientAbandonedError extends Error {
  constructor() {
    super('The client closed the connection before the upstream answered')
    this.name = 'ClientAbandonedError'
  }
}

/**
 * Sends the request to the dial target with the credential injected: the agent's own credential
 * headers, hop-by-hop and override headers are gone, and the upstream sees one value — the vault's.
 * Redirects are handed back, never followed; nothing is retried.
 */
export function forward(ctx: RequestContext, pool: Pool, limits: ForwardLimits): Promise<UpstreamResponse> {
  const credential = ctx.credential
  if (credential === null) return Promise.reject(new Error('forward() needs a credential'))
  const injectName = credentialHeaderName(credential)
  const forwarded = upstreamHeaders(ctx, limits.stripHeaders)
  const headers: string[] = []
  for (let i = 0; i + 1 < forwarded.length; i += 2) {
    const name = forwarded[i] as string
    if (name.length === 15 && name.toLowerCase() === 'accept-encoding') continue
    headers.push(name, forwarded[i + 1] as string)
  }
  // Responses are redacted before the agent sees them: ask for them uncompressed. Offering gzip
  // would cost an inflate per response and lose the exact-length small-body path (redact-response);
  // an upstream that compresses anyway is decoded, or refused when it cannot be (see coding.ts).
  headers.push('accept-encoding', 'identity')
  const injectValue = credentialHeaderValue(credential)
  if (injectName !== null && injectValue !== null) headers.push(injectName, injectValue)
  const length = ctx.bodyBytes?.byteLength ?? ctx.req.contentLength
  if (length !== null) headers.push('content-length', String(length))

  const query = upstreamQuery(ctx.query, credential)
  const request: Dispatcher.DispatchOptions = {
    path: query === '' ? ctx.path : `${ctx.path}?${query}`,
    method: ctx.req.method as Dispatcher.HttpMethod,
    headers,
    body: null,
    // The exchange keeps both deadlines itself (see UpstreamExchange).
    headersTimeout: 0,
    bodyTimeout: 0,
  }
  let prepared: PreparedBody | Promise<PreparedBody>
  try {
    prepared = requestBody(ctx, limits)
  } catch (error) {
    return Promise.reject(error)
  }
  return prepared instanceof Promise
    ? prepared.then((ready) => send(ctx, pool, request, ready, limits.requestTimeoutMs))
    : send(ctx, pool, request, prepared, limits.requestTimeoutMs)
}

/**
 * Dispatches the request with its body; resolves at the response headers. The exchange is the
 * context's while its answer is awaited (a client that goes away gives up on it: `abandon`).
 */
function send(
  ctx: RequestContext,
  pool: Pool,
  request: Dispatcher.DispatchOptions,
  { body, counter }: PreparedBody,
  timeoutMs: number,
): Promise<UpstreamResponse> {
  if (ctx.abandoned) return Promise.reject(new ClientAbandonedError())
  const exchange = new UpstreamExchange(body instanceof Readable ? body : null, timeoutMs)
  ctx.exchange = exchange
  ctx.bodySent = counter
  request.body = body
  pool.dispatch(request, exchange)
  return exchange.head.then((head) => {
    let coding: string | null
    try {
      // From the raw headers: filtering first would let a `Connection: content-encoding` hide it.
      coding = responseCoding(head.headers)
    } catch (error) {
      exchange.destroy()
      throw error
    }
    return {
      status: head.status,
      headers: forwardResponseHeaders(head.headers),
      coding,
      body: exchange,
      bytesIn: counter,
    }
  })
}
