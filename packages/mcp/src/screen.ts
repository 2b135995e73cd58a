import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js'
import {
  CancelledNotificationSchema,
  ClientRequestSchema,
  ErrorCode,
  isJSONRPCErrorResponse,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCErrorResponse,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type MessageExtraInfo,
} from '@modelcontextprotocol/sdk/types.js'
import { requestKey } from './json-rpc.js'

/** The request methods MCP defines for a client: their params are checked here, by MCP's schema. */
const CLIENT_METHODS: ReadonlySet<string> = new Set(
  ClientRequestSchema.options.map((option) => option.shape.method.value),
)

/** JSON-RPC's own text for each error code: all an error the SDK composes is answered with. */
const RPC_TEXT: Readonly<Record<number, string>> = {
  [ErrorCode.ParseError]: 'Parse error',
  [ErrorCode.InvalidRequest]: 'Invalid Request',
  [ErrorCode.MethodNotFound]: 'Method not found',
  [ErrorCode.InvalidParams]: 'Invalid params',
  [ErrorCode.InternalError]: 'Internal error',
}

/**
 * A transport between the SDK's server and the real one that answers, itself, the requests the SDK
 * would answer by repeating what the client sent — or wrongly:
 *
 * - `tools/call` naming a tool that is not one of `tools` — the SDK looks it up in a plain object,
 *   so `constructor` or `__proto__` was "disabled", and any other name was repeated back ("Tool
 *   <name> not found": a secret sent as the name came back): `-32602 Unknown tool`, naming ours;
 * - params MCP does not define for the method (`arguments` an array, a string, null; a `cursor`
 *   that is a number): the SDK answered its validator's raw dump; here one `-32602` sentence saying
 *   what was expected;
 * - a second `initialize` on one connection, and a request whose id is still being answered on it
 *   (two answers under one id, and a cancellation that reaches only one of them): `-32600`.
 *
 * These answers name nothing the client sent but the request's id. Every other error the SDK sends
 * has JSON-RPC's fixed text for its code, never its own message or data, which may quote the request.
 */
export class ScreenedTransport implements Transport {
  onclose?: () => void
  onerror?: (error: Error) => void
  onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void
  readonly #inner: Transport
  readonly #tools: readonly string[]
  /** Requests handed to the server and not answered yet, by `requestKey`. */
  readonly #running = new Set<string>()
  #initialized = false

  constructor(inner: Transport, tools: readonly string[]) {
    this.#inner = inner
    this.#tools = tools
  }

  get sessionId(): string | undefined {
    return this.#inner.sessionId
  }

  setProtocolVersion(version: string): void {
    this.#inner.setProtocolVersion?.(version)
  }

  async start(): Promise<void> {
    this.#inner.onmessage = (message, extra) => this.#receive(message, extra)
    this.#inner.onclose = () => this.onclose?.()
    this.#inner.onerror = (error) => this.onerror?.(error)
    await this.#inner.start()
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) {
      if (message.id !== undefined) this.#running.delete(requestKey(message.id))
    }
    await this.#inner.send(isJSONRPCErrorResponse(message) ? plainError(message) : message, options)
  }

  close(): Promise<void> {
    return this.#inner.close()
  }

  #receive(message: JSONRPCMessage, extra?: MessageExtraInfo): void {
    if (!isJSONRPCRequest(message)) {
      // A cancelled request is never answered: its id is free again.
      const cancelled = CancelledNotificationSchema.safeParse(message)
      const id = cancelled.success ? cancelled.data.params.requestId : undefined
      if (id !== undefined) this.#running.delete(requestKey(id))
      this.onmessage?.(message, extra)
      return
    }
    const problem = this.#problem(message)
    if (problem !== null) {
      const answer: JSONRPCErrorResponse = { jsonrpc: '2.0', id: message.id, error: problem }
      this.#inner.send(answer).catch((error: unknown) => {
        this.onerror?.(error instanceof Error ? error : new Error(String(error)))
      })
      return
    }
    this.#running.add(requestKey(message.id))
    if (message.method === 'initialize') this.#initialized = true
    this.onmessage?.(message, extra)
  }

  #problem(request: JSONRPCRequest): { code: number; message: string } | null {
    if (this.#running.has(requestKey(request.id))) {
      return invalidRequest('a request with this id is still being answered; use a new id')
    }
    if (request.method === 'initialize' && this.#initialized) {
      return invalidRequest('this connection is already initialized')
    }
    if (CLIENT_METHODS.has(request.method) && !followsSchema(request)) {
      return invalidParams(
        request.method === 'tools/call'
          ? toolCallExpected(request.params)
          : `not the params ${request.method} takes`,
      )
    }
    if (request.method === 'tools/call') {
      const name = request.params?.name
      if (typeof name !== 'string' || !this.#tools.includes(name)) {
        return invalidParams(`Unknown tool: the tools are ${this.#tools.join(', ')}`, false)
      }
    }
    return null
  }
}

function followsSchema(request: JSONRPCRequest): boolean {
  try {
    return ClientRequestSchema.safeParse(request).success
  } catch {
    // Params nested past the validator's stack.
    return false
  }
}

/** What a `tools/call` whose params do not follow MCP's schema should have sent. */
function toolCallExpected(params: JSONRPCRequest['params']): string {
  const args = params?.arguments
  if (args !== undefined && (typeof args !== 'object' || args === null || Array.isArray(args))) {
    return 'tools/call "arguments" must be an object of the tool\'s arguments by name, as its inputSchema in tools/list says'
  }
  if (typeof params?.name !== 'string')
    return 'tools/call "name" must be the name of a tool, as tools/list lists them'
  return 'not the params tools/call takes: "name" (a string) and "arguments" (an object)'
}

function invalidRequest(why: string) {
  return { code: ErrorCode.InvalidRequest, message: `Invalid Request: ${why}` }
}

function invalidParams(why: string, prefixed = true) {
  return { code: ErrorCode.InvalidParams, message: prefixed ? `Invalid params: ${why}` : why }
}

function plainError(message: JSONRPCErrorResponse): JSONRPCErrorResponse {
  const { code } = message.error
  return { jsonrpc: '2.0', id: message.id, error: { code, message: RPC_TEXT[code] ?? 'Server error' } }
}
