import type { IncomingHttpHeaders } from 'node:http'
import { isJsonContentType } from '@modelcontextprotocol/sdk/shared/mediaType.js'
import {
  isInitializeRequest,
  isJSONRPCRequest,
  SUPPORTED_PROTOCOL_VERSIONS,
} from '@modelcontextprotocol/sdk/types.js'
import { isJsonRpcMessage, requestKey } from './json-rpc.js'

/** Why a POST cannot be handed to the MCP server, as its JSON-RPC error says it. */
export interface PostProblem {
  rpcCode: number
  detail: string
}

/** Largest batch taken (the SDK transport's own limit). */
const MAX_BATCH = 100

/**
 * What the streamable HTTP transport would refuse in a POST's headers, checked before the message
 * is handed to it so that the refusal is recorded like every other: an `Accept` without both JSON
 * and event streams, a body that is not `application/json`, an unsupported `MCP-Protocol-Version`.
 * The detail never repeats the client's values.
 */
export function headerProblem(headers: IncomingHttpHeaders): PostProblem | null {
  const accept = headers.accept ?? ''
  if (!accept.includes('application/json') || !accept.includes('text/event-stream')) {
    return {
      rpcCode: -32000,
      detail: 'Not Acceptable: Accept must list application/json and text/event-stream',
    }
  }
  if (!isJsonContentType(headers['content-type'] ?? null)) {
    return { rpcCode: -32000, detail: 'Unsupported Media Type: Content-Type must be application/json' }
  }
  const sent = headers['mcp-protocol-version']
  const version = Array.isArray(sent) ? sent.join(', ') : sent
  if (version !== undefined && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) {
    return {
      rpcCode: -32000,
      detail: `Unsupported MCP-Protocol-Version (supported: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')})`,
    }
  }
  return null
}

/**
 * What the transport would refuse in a POST's message, or let through wrongly: a batch over its
 * limit, something that is not JSON-RPC, an `initialize` beside other messages, or two requests
 * with one id — their answers would be keyed by the id, so one call would run upstream and its
 * answer be lost (and the batch answered with a lone object). Null when the message may be handled.
 */
export function messageProblem(message: unknown): PostProblem | null {
  const messages = Array.isArray(message) ? message : [message]
  if (messages.length > MAX_BATCH) {
    return { rpcCode: -32600, detail: `Invalid Request: a batch holds at most ${MAX_BATCH} messages` }
  }
  if (!messages.every(isJsonRpcMessage))
    return { rpcCode: -32700, detail: 'Parse error: Invalid JSON-RPC message' }
  if (messages.length > 1 && messages.some(isInitializeRequest)) {
    return { rpcCode: -32600, detail: 'Invalid Request: initialize is sent alone, not in a batch' }
  }
  const ids = new Set<string>()
  for (const request of messages.filter(isJSONRPCRequest)) {
    const id = requestKey(request.id)
    if (ids.has(id)) {
      return { rpcCode: -32600, detail: 'Invalid Request: two requests in one batch have the same id' }
    }
    ids.add(id)
  }
  return null
}
