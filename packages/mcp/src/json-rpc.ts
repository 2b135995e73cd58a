import { JSONRPCMessageSchema, type RequestId } from '@modelcontextprotocol/sdk/types.js'

/** Largest MCP message taken, bytes: a POST's body (`maxMessageBytes`'s default), a stdio line. */
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1_048_576

/** Whether `value` is one JSON-RPC message MCP reads (a request, notification or response). */
export function isJsonRpcMessage(value: unknown): boolean {
  try {
    return JSONRPCMessageSchema.safeParse(value).success
  } catch {
    // A message nested past the validator's stack.
    return false
  }
}

/** A JSON-RPC error answer; `id` null when the message's id could not be read. */
export function rpcError(code: number, message: string, id: RequestId | null = null) {
  return { jsonrpc: '2.0' as const, error: { code, message }, id }
}

/** One key per request id; an id keeps its type (`1` and `"1"` are two requests). */
export function requestKey(id: RequestId): string {
  return `${typeof id}:${id}`
}

/** The id of something that may be a JSON-RPC message: a string or a number, else null. */
export function readableId(value: unknown): RequestId | null {
  if (typeof value !== 'object' || value === null || !('id' in value)) return null
  const { id } = value
  return typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id)) ? id : null
}
