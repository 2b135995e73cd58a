import type { ServerResponse } from 'node:http'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import type { TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js'
import {
  CancelledNotificationSchema,
  isJSONRPCErrorResponse,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
  type RequestId,
} from '@modelcontextprotocol/sdk/types.js'
import { requestKey } from './json-rpc.js'

/**
 * The transport of one `POST /mcp`, which knows which of the requests it carries its server has
 * been handed and which are still unanswered. Once one is cancelled (`cancel`), the SDK's JSON
 * answer, which waits for every request, can never come: this POST is answered here once the others
 * are — their answers, or a 202 and no body when none is left — so the client's connection is not
 * held for ever.
 *
 * A batch is always answered here, as an array (JSON-RPC 2.0 §6) in the order of its requests: the
 * SDK answers a batch holding one request with that answer alone, which a client matching its
 * batch to an array cannot read.
 */
export class PostCalls extends StreamableHTTPServerTransport {
  /** The JSON-RPC messages this POST carries (a batch's, or the one). */
  readonly messages: readonly unknown[]
  /** The request ids among them. */
  readonly ids: readonly RequestId[]
  readonly #batch: boolean
  readonly #unanswered: Set<RequestId>
  readonly #handedOver = new Set<RequestId>()
  /** Cancellations that came before their request reached the server: handed over right after it. */
  readonly #early = new Map<RequestId, JSONRPCMessage>()
  readonly #answers: JSONRPCMessage[] = []
  #cancelled = false

  constructor(
    readonly token: string,
    body: unknown,
    private readonly res: ServerResponse,
  ) {
    super({ sessionIdGenerator: undefined, enableJsonResponse: true })
    this.#batch = Array.isArray(body)
    this.messages = Array.isArray(body) ? body : [body]
    this.#unanswered = new Set(this.messages.filter(isJSONRPCRequest).map((request) => request.id))
    this.ids = [...this.#unanswered]
  }

  override async start(): Promise<void> {
    // The server has set its handler (it starts its transport once connected).
    const deliver = this.onmessage
    this.onmessage = (message, extra) => {
      deliver?.(message, extra)
      if (!isJSONRPCRequest(message)) return
      this.#handedOver.add(message.id)
      const cancellation = this.#early.get(message.id)
      if (cancellation === undefined) return
      this.#early.delete(message.id)
      deliver?.(cancellation)
      this.#settle()
    }
    await super.start()
  }

  override async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    const answer = isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)
    if (answer && message.id !== undefined) {
      this.#unanswered.delete(message.id)
      this.#answers.push(message)
    }
    // A batch's answers are written by `#settle`, never by the SDK's JSON answer.
    if (!(answer && this.#batch)) await super.send(message, options)
    if (answer) this.#settle()
  }

  /** Hands the client's cancellation of `id` to this POST's server, as if it had come on this POST. */
  cancel(id: RequestId, notification: JSONRPCMessage): void {
    if (!this.#unanswered.delete(id)) return
    this.#cancelled = true
    if (!this.#handedOver.has(id)) {
      this.#early.set(id, notification)
      return
    }
    this.onmessage?.(notification)
    this.#settle()
  }

  #settle(): void {
    const { res } = this
    if (!(this.#cancelled || this.#batch) || this.#unanswered.size > 0 || this.#early.size > 0) return
    if (res.headersSent || res.destroyed) return
    const order = (m: JSONRPCMessage) => ('id' in m && m.id !== undefined ? this.ids.indexOf(m.id) : -1)
    const answers = [...this.#answers].sort((a, b) => order(a) - order(b))
    if (answers.length === 0) {
      res.writeHead(202, { 'cache-control': 'no-store' })
      res.end()
      return
    }
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
    res.end(JSON.stringify(this.#batch ? answers : answers[0]))
  }
}

/**
 * The tool calls running on the stateless HTTP endpoint, by agent token and JSON-RPC id. Every POST
 * gets its own MCP server, so a client's `notifications/cancelled` — sent in a POST of its own, as
 * the SDK client sends it — would reach a server that never saw the call: it is routed here to the
 * POST that runs it. Only the same token's calls can be cancelled; an id that is unknown, already
 * answered, or running twice under one token (two clients sharing a token) is ignored, as the
 * protocol allows.
 */
export class RunningCalls {
  readonly #posts = new Map<string, Set<PostCalls>>()

  /** Starts tracking `post`'s requests; the returned function stops (call it when the POST closes). */
  add(post: PostCalls): () => void {
    const keys = post.ids.map((id) => key(post.token, id))
    for (const k of keys) {
      const posts = this.#posts.get(k)
      if (posts === undefined) this.#posts.set(k, new Set([post]))
      else posts.add(post)
    }
    return () => {
      for (const k of keys) {
        const posts = this.#posts.get(k)
        posts?.delete(post)
        if (posts?.size === 0) this.#posts.delete(k)
      }
    }
  }

  /**
   * Routes each cancellation `post` carries to the POST that runs the call it names, under the same
   * token — `post` itself included (a batch cancelling its own call: its JSON answer could then
   * never come either).
   */
  cancel(post: PostCalls): void {
    for (const message of post.messages) {
      const parsed = CancelledNotificationSchema.safeParse(message)
      const id = parsed.success ? parsed.data.params.requestId : undefined
      if (id === undefined) continue
      const running = this.#posts.get(key(post.token, id))
      if (running?.size !== 1) continue
      for (const target of running) target.cancel(id, message as JSONRPCMessage)
    }
  }
}

/** One key per token and id; an id keeps its type (`1` and `"1"` are two requests). */
function key(token: string, id: RequestId): string {
  return `${requestKey(id)}\n${token}`
}
