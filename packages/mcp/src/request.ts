import { randomUUID } from 'node:crypto'
import type { GateRequest } from '@aegis/proxy'

/** What an agent asks for through `aegis_proxy_request`, after schema validation. */
export interface ProxyRequestArgs {
  service: string
  path: string
  method: string
  headers?: Record<string, string> | undefined
  body?: string | undefined
  targetHost?: string | undefined
}

/**
 * Builds the canonical request the HTTP gate would build for the same call:
 * `{method} /{service}{path}` with the agent's headers as raw pairs. The agent token comes from the
 * server's identity, never from the tool arguments; an identity header an agent puts in `headers`
 * is just one more header, which the pipeline strips like any other `X-Aegis-*`.
 */
export function toGateRequest(args: ProxyRequestArgs, agentToken: string | null): GateRequest {
  const rawHeaders: string[] = []
  for (const [name, value] of Object.entries(args.headers ?? {})) rawHeaders.push(name, value)
  const body = args.body === undefined ? null : Buffer.from(args.body, 'utf8')
  return {
    id: randomUUID(),
    channel: 'mcp',
    receivedAt: Date.now(),
    method: args.method,
    target: `/${args.service}${args.path}`,
    rawHeaders,
    agentToken,
    targetHost: args.targetHost ?? null,
    contentLength: body === null ? null : body.byteLength,
    body,
    clientAddress: null,
  }
}

/** RFC 9110 token characters: what a header name may contain. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
/** Field values: visible characters, spaces and tabs; no CR, LF, NUL or other controls. */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/

/**
 * What the HTTP gate's parser would refuse before the pipeline runs: a malformed header name or
 * value (`bad_request`), or a header block over `maxHeaderSize` — the gate's own configured limit
 * (`gate.max_header_size`) — as `headers_too_large`. Null when fine.
 */
export function headerProblem(
  headers: Record<string, string> | undefined,
  maxHeaderSize: number,
): { code: 'bad_request' | 'headers_too_large'; detail: string } | null {
  let size = 0
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (!HEADER_NAME.test(name))
      return { code: 'bad_request', detail: 'A header name has characters HTTP does not allow' }
    if (!HEADER_VALUE.test(value)) {
      return {
        code: 'bad_request',
        detail: `Header "${name}" has characters HTTP does not allow (CR, LF or NUL)`,
      }
    }
    size += name.length + value.length + 4
  }
  if (size > maxHeaderSize) {
    return {
      code: 'headers_too_large',
      detail: `Request headers of ${size} bytes are over the limit of ${maxHeaderSize}`,
    }
  }
  return null
}
