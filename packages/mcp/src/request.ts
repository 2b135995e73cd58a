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
