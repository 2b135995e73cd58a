import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { type Refusal, refuse } from '@aegis/guard'
import type { Channel, GateRequest } from '../types.js'
import { agentIdentity } from './agent-token.js'

function single(value: string | string[] | undefined): string | null {
  if (value === undefined) return null
  // Node joins repeated custom headers with ", "; a repeated identity header is kept whole so
  // the stages see (and refuse) the ambiguity instead of silently picking one.
  return Array.isArray(value) ? value.join(', ') : value
}

/** Whether the request's head announces a body: chunked, or a positive Content-Length. */
export function announcesBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length']) > 0
}

/** Builds the canonical request from a Node HTTP request. The body stays a stream. */
export function fromIncoming(req: IncomingMessage, receivedAt: number): GateRequest {
  const lengthHeader = req.headers['content-length']
  const contentLength = lengthHeader === undefined ? null : Number(lengthHeader)
  const chunked = req.headers['transfer-encoding'] !== undefined
  const hasBody = chunked || (contentLength !== null && contentLength > 0)
  const identity = agentIdentity(req.rawHeaders, single(req.headers['x-aegis-agent']))
  return {
    id: randomUUID(),
    channel: 'gate',
    receivedAt,
    method: req.method ?? 'GET',
    target: req.url ?? '',
    rawHeaders: identity.rawHeaders,
    agentToken: identity.token,
    targetHost: single(req.headers['x-target-host']),
    contentLength: chunked ? null : contentLength,
    body: hasBody ? req : null,
    clientAddress: req.socket.remoteAddress ?? null,
  }
}

/** A stand-in for a request the HTTP parser rejected before it became a request. */
export function unparsedRequest(
  method: string,
  target: string,
  clientAddress: string | null,
  channel: Channel = 'gate',
): GateRequest {
  return {
    id: randomUUID(),
    channel,
    receivedAt: Date.now(),
    method,
    target,
    rawHeaders: [],
    agentToken: null,
    targetHost: null,
    contentLength: null,
    body: null,
    clientAddress,
  }
}

const HOST_REQUIRED = refuse('bad_request', 'An HTTP/1.1 request needs exactly one Host header')
const HOST_REPEATED = refuse('bad_request', 'The Host header must be a single value')

/**
 * RFC 9112 §3.2: an HTTP/1.1 request without a Host, or any request with more than one, is refused.
 * (Node would answer the first with a bare 400 no ledger row holds, and keep the first of several.)
 */
export function hostHeaderRefusal(req: IncomingMessage): Refusal | null {
  const raw = req.rawHeaders
  let count = 0
  for (let i = 0; i < raw.length; i += 2)
    if (raw[i]?.length === 4 && raw[i]?.toLowerCase() === 'host') count++
  if (count > 1) return HOST_REPEATED
  if (count === 0 && req.httpVersionMajor === 1 && req.httpVersionMinor >= 1) return HOST_REQUIRED
  return null
}

/**
 * Node's parser takes any `HTTP/<digit>.<digit>` request line (`HTTP/2.0`, `HTTP/0.9`) as HTTP/1.x;
 * the gate would forward it as HTTP/1.1, a version the client never spoke.
 */
const UNSPOKEN_VERSION = refuse(
  'bad_request',
  'Only HTTP/1.1 and HTTP/1.0 are spoken here (HTTP/2 starts with its connection preface, over TLS with ALPN)',
)

const UNFRAMED_TRANSFER_CODING = refuse(
  'bad_request',
  'Transfer-Encoding must end with chunked, applied once: the body length is otherwise unknown',
)

const HTTP10_TRANSFER_CODING = refuse(
  'bad_request',
  'An HTTP/1.0 request cannot use Transfer-Encoding: send Content-Length, or speak HTTP/1.1',
)

/**
 * A request line of a version the gate does not speak; or, RFC 9112 §6.1, an HTTP/1.0 message with
 * Transfer-Encoding, whose framing is faulty whatever else it says (Node's parser decodes it as
 * chunked anyway; a server or proxy before the gate may not: a smuggling seam). Refused; the
 * caller closes the connection after the answer.
 */
export function framingRefusal(req: IncomingMessage): Refusal | null {
  if (req.httpVersionMajor !== 1 || req.httpVersionMinor > 1) return UNSPOKEN_VERSION
  const codings = req.headers['transfer-encoding']
  if (codings === undefined) return null
  if (req.httpVersionMinor === 0) return HTTP10_TRANSFER_CODING
  return endsWithChunked(codings) ? null : UNFRAMED_TRANSFER_CODING
}

/**
 * RFC 9112 §6.3: a request's Transfer-Encoding must end with `chunked`, applied once; anything else
 * leaves its length unknown. Node's parser refuses such a request only after handing its head on
 * (the refusal then comes from the socket): refusing it here, before the pipeline, makes the row
 * and the answer one refusal.
 */
function endsWithChunked(codings: string): boolean {
  const list = codings.split(',')
  let chunked = 0
  for (const coding of list) if (coding.trim().toLowerCase() === 'chunked') chunked++
  return chunked === 1 && (list[list.length - 1] as string).trim().toLowerCase() === 'chunked'
}
