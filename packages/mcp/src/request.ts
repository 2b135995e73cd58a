import { randomUUID } from 'node:crypto'
import type { GateRequest } from '@aegis/proxy'
import { agentIdentity } from '@aegis/proxy/internal'

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
 * `{method} /{service}{path}` with the agent's headers as raw pairs.
 *
 * The agent token is the server's identity. Headers the gate reads an identity from
 * (`X-Aegis-Agent`, an agent-token-shaped `Authorization: Bearer`, `x-api-key`, `x-goog-api-key`)
 * are read the gate's way: the same token as the server's is one identity; any other — or any
 * token at all on a server without one — is a second identity, and like two different tokens at
 * the gate it makes the request's token invalid (`agent_auth_invalid`), never the one used.
 * `X-Target-Host` in `headers` names the target as it does at the gate, beside `targetHost`: two
 * different values are not chosen between (`bad_request`).
 */
export function toGateRequest(args: ProxyRequestArgs, agentToken: string | null): GateRequest {
  const rawHeaders: string[] = []
  const named: string[] = []
  const targets = args.targetHost === undefined ? [] : [args.targetHost]
  for (const [name, value] of Object.entries(args.headers ?? {})) {
    rawHeaders.push(name, value)
    const lower = name.toLowerCase()
    if (lower === 'x-aegis-agent') named.push(value)
    else if (lower === 'x-target-host') targets.push(value)
  }
  const identity = agentIdentity(rawHeaders, named.length === 0 ? null : named.join(', '))
  const body = args.body === undefined ? null : Buffer.from(args.body, 'utf8')
  const distinctTargets = [...new Set(targets)]
  return {
    id: randomUUID(),
    channel: 'mcp',
    receivedAt: Date.now(),
    method: args.method,
    target: `/${args.service}${args.path}`,
    rawHeaders: identity.rawHeaders,
    agentToken: callerToken(agentToken, identity.token),
    targetHost: distinctTargets.length === 0 ? null : distinctTargets.join(', '),
    contentLength: body === null ? null : body.byteLength,
    body,
    clientAddress: null,
  }
}

/** The server's token, unless the headers name another identity: then a token no agent has. */
function callerToken(server: string | null, named: string | null): string | null {
  if (named === null || named === '' || named === server) return server
  return `${server ?? ''}, ${named}`
}
