import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { Channel, GateRequest } from '../types.js'
import { agentIdentity } from './agent-token.js'

function single(value: string | string[] | undefined): string | null {
  if (value === undefined) return null
  // Node joins repeated custom headers with ", "; a repeated identity header is kept whole so
  // the stages see (and refuse) the ambiguity instead of silently picking one.
  return Array.isArray(value) ? value.join(', ') : value
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
