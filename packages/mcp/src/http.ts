import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import {
  hostAllowed,
  parseHostAllowlist,
  problemDocument,
  REFUSAL_STATUS,
  type Refusal,
  refuse,
} from '@aegis/guard'
import type { ConnectionLimits, GateEngine, GateRequest, Logger } from '@aegis/proxy'
import {
  agentIdentity,
  collectBody,
  connectionLimits,
  connectionServerOptions,
  Drain,
  guardConnections,
  lingerAfterAnswer,
  listenOn,
  ProtocolRefusals,
  RateLimitedWarning,
  refuseConnect,
  sendRefusal,
} from '@aegis/proxy/internal'
import { PostCalls, RunningCalls } from './http-calls.js'
import { allowedOrigins, bearerToken, originAllowed } from './http-guard.js'
import { headerProblem, messageProblem, type PostProblem } from './http-message.js'
import { DEFAULT_MAX_MESSAGE_BYTES, rpcError } from './json-rpc.js'
import { buildMcpServer } from './server.js'

export interface McpHttpServerOptions {
  engine: GateEngine
  logger: Logger
  /** Interface to bind. Default 127.0.0.1. */
  host?: string
  /** Port to bind; 0 takes a free port. Default 3300. */
  port?: number
  /**
   * Browser origins allowed to call (exact `scheme://host:port`). The server's own
   * `http://localhost:<port>` and `http://127.0.0.1:<port>` are always allowed, and so are
   * requests without an `Origin` (non-browser clients); any other origin is refused (403).
   */
  allowedOrigins?: readonly string[]
  /**
   * Host names clients may reach the server by besides `localhost`, `*.localhost` and IP addresses
   * (`gate.allowed_hosts`, the gate's rule); any other `Host` is refused (403 `host_denied`).
   */
  allowedHosts?: readonly string[]
  /** Largest upstream response body returned to the client, bytes. Default 1 MiB. */
  maxResponseBytes?: number
  /** Largest MCP request message accepted, bytes. Default 4 MiB. */
  maxMessageBytes?: number
  /**
   * Client connection limits (idle, header and request timeouts, connection cap, header size); the
   * gate's defaults. `maxHeaderSize` also bounds the headers a tool call sends upstream.
   */
  connections?: Partial<ConnectionLimits>
  version?: string
}

export interface McpHttpServer {
  /** Binds and starts serving `POST /mcp`; resolves with the endpoint URL once listening. */
  listen(): Promise<{ host: string; port: number; url: string }>
  /** Stops accepting, lets running tool calls finish (up to `timeoutMs`, default 10 s), closes. */
  close(timeoutMs?: number): Promise<void>
}

const MCP_PATH = '/mcp'

/**
 * The streamable HTTP transport, stateless: every `POST /mcp` gets a new MCP server bound to the
 * bearer token it carried, on the one shared engine. Only local `Host` values are served, a foreign
 * `Origin` is refused, and a request without `Authorization: Bearer <agent token>` is 401.
 */
export function createMcpHttpServer(options: McpHttpServerOptions): McpHttpServer {
  const { engine, logger } = options
  const host = options.host ?? '127.0.0.1'
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES
  const connections = connectionLimits(options.connections)
  const drain = new Drain()
  const hosts = parseHostAllowlist(options.allowedHosts)
  const running = new RunningCalls()
  let origins = new Set<string>()
  let server: Server | null = null
  // Framing, version, Host and Expect refusals, and the parser's own: recorded on channel `mcp`
  // and answered with their request id, as the gate does, where Node alone would answer bare.
  const protocol = new ProtocolRefusals({
    engine,
    channel: 'mcp',
    routed: false,
    logger,
    headersTimeout: connections.headersTimeout,
  })

  // A flood of DNS-rebinding or cross-site requests is one warning per 10 s, with its count; each
  // request is still its own ledger row.
  const foreignHost = new RateLimitedWarning((count) =>
    logger.warn({ channel: 'mcp', count }, 'MCP requests with a foreign Host header refused'),
  )
  const foreignOrigin = new RateLimitedWarning((count) =>
    logger.warn({ channel: 'mcp', count }, 'MCP requests from a foreign Origin refused'),
  )

  /**
   * A request refused before any MCP message is handled — a web page's (foreign `Host` or
   * `Origin`), another path, another method, the server draining — recorded like the gate records
   * one (ledger row on channel `mcp`, log line), then answered with its problem document. The
   * answer waits for the ledger write, so a client's own connections are its backpressure: a flood
   * costs the flooder, as at the gate.
   */
  async function refuseRecorded(
    req: IncomingMessage,
    res: ServerResponse,
    refusal: Refusal,
    extra: Record<string, string> = {},
  ) {
    const request = standIn(req, req.url ?? MCP_PATH)
    // A parser refusal in its body still to come is this row's, not a second one.
    protocol.receivingBody(req, request.id)
    const outcome = await engine.reject(request, refusal, ENDPOINT).catch(() => null)
    const problem = outcome?.problem ?? problemDocument(refusal, request.id)
    // The gate's own writer: the same headers as the gate's answer to the same refusal.
    sendRefusal(req, res, outcome?.status ?? REFUSAL_STATUS[refusal.code], refusal, problem, {
      requestId: request.id,
      closing: drain.closing,
      headers: extra,
    })
  }

  /**
   * A message that could not be taken (over the size limit, not JSON, not one the transport takes):
   * recorded like the gate's `body_too_large` and `bad_request`, answered as a JSON-RPC error (what an
   * MCP client reads).
   */
  async function refuseMessage(
    req: IncomingMessage,
    res: ServerResponse,
    refusal: Refusal,
    rpc: { code: number; message: string },
  ) {
    const request = standIn(req, req.url ?? MCP_PATH)
    // A parser refusal in its body still to come is this row's, not a second one.
    protocol.receivingBody(req, request.id)
    await engine.reject(request, refusal, ENDPOINT).catch(() => null)
    res.writeHead(REFUSAL_STATUS[refusal.code], {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      'x-aegis-block': refusal.code,
      'x-request-id': request.id,
      'request-id': request.id,
      ...closeUnread(req, res),
    })
    res.end(JSON.stringify(rpcError(rpc.code, rpc.message)))
  }

  async function unauthenticated(req: IncomingMessage, res: ServerResponse, token: string | null) {
    const refusal =
      token === null
        ? refuse('agent_auth_required', 'Send your agent token as "Authorization: Bearer <token>"')
        : null
    const found = refusal === null && token !== null ? engine.services(token) : null
    const final = refusal ?? (found !== null && !found.ok ? found.refusal : null)
    if (final === null) return false
    if (final.code !== 'agent_auth_required' && final.code !== 'agent_auth_invalid') return false
    // Record the refusal like the gate records one (ledger entry, log line), then answer 401.
    const request = standIn(req)
    protocol.receivingBody(req, request.id)
    const outcome = await engine.reject(request, final, ENDPOINT).catch(() => null)
    const problem = outcome?.problem ?? problemDocument(final, request.id)
    sendRefusal(req, res, 401, final, problem, {
      requestId: request.id,
      closing: drain.closing,
      headers: { 'www-authenticate': 'Bearer realm="aegis"' },
    })
    return true
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const unservable = protocol.refusal(req, res)
    if (unservable !== null) return refuseRecorded(req, res, unservable)
    if (!hostAllowed(req.headers.host, hosts)) {
      foreignHost.hit()
      return refuseRecorded(
        req,
        res,
        refuse('host_denied', 'The Host header does not name this local server'),
      )
    }
    if (!originAllowed(req.headers.origin, origins)) {
      foreignOrigin.hit()
      return refuseRecorded(req, res, refuse('origin_denied', 'Requests from this Origin are not allowed'))
    }
    const path = (req.url ?? '').split('?')[0]
    if (path !== MCP_PATH)
      return refuseRecorded(req, res, refuse('not_found', `The MCP endpoint is ${MCP_PATH}`))
    if (req.method !== 'POST') {
      return refuseRecorded(
        req,
        res,
        refuse('method_not_allowed', 'This stateless MCP endpoint takes POST only'),
        { allow: 'POST' },
      )
    }
    const token = requestToken(req)
    if (await unauthenticated(req, res, token)) return
    if (drain.closing)
      return refuseRecorded(req, res, refuse('shutting_down', 'The MCP server is shutting down'))

    const refused = (problem: PostProblem) =>
      refuseMessage(req, res, refuse('bad_request', problem.detail), {
        code: problem.rpcCode,
        message: problem.detail,
      })
    const message = await readMessage(req, maxMessageBytes)
    if (message.kind === 'too_large') {
      const detail = `Message over ${maxMessageBytes} bytes`
      return refuseMessage(req, res, refuse('body_too_large', detail), { code: -32600, message: detail })
    }
    if (message.kind === 'invalid') {
      return refuseMessage(req, res, refuse('bad_request', 'The MCP message is not JSON'), {
        code: -32700,
        message: 'Parse error: the body is not JSON',
      })
    }
    const malformed = headerProblem(req.headers) ?? messageProblem(message.value)
    if (malformed !== null) return refused(malformed)

    const mcp = buildMcpServer(
      {
        engine,
        agentToken: token,
        maxResponseBytes: options.maxResponseBytes,
        maxHeaderSize: connections.maxHeaderSize,
        version: options.version,
      },
      drain,
    )
    // `unauthenticated` let through only a request with a token.
    const agent = token ?? ''
    const transport = new PostCalls(agent, message.value, res)
    const untrack = running.add(transport)
    // The connection closed (answered, or the client gone before its answer): closing the transport
    // cancels the calls still running, and the engine abandons them.
    res.on('close', () => {
      untrack()
      void transport.close().catch(() => undefined)
      void mcp.close().catch(() => undefined)
    })
    running.cancel(transport)
    await mcp.connect(transport)
    await transport.handleRequest(req, res, message.value)
  }

  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    handle(req, res).catch((error: unknown) => {
      logger.error({ err: error instanceof Error ? error.message : String(error) }, 'MCP HTTP request failed')
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' })
        res.end(JSON.stringify(rpcError(-32603, 'Internal error')))
      } else res.destroy()
    })
  }

  async function listen() {
    const s = createServer(connectionServerOptions(connections), onRequest)
    guardConnections(s, connections, logger)
    protocol.install(s, onRequest)
    // Without a 'connect' listener Node hangs up on a CONNECT unanswered and unrecorded.
    s.on(
      'connect',
      refuseConnect(
        engine,
        'mcp',
        `CONNECT is not supported: this is the MCP endpoint (POST ${MCP_PATH}), not a forward proxy`,
      ),
    )
    const port = options.port ?? 3300
    const bound = await listenOn(s, host, port)
    server = s
    origins = allowedOrigins(bound, options.allowedOrigins)
    const shown = host.includes(':') ? `[${host}]` : host
    return { host, port: bound, url: `http://${shown}:${bound}${MCP_PATH}` }
  }

  async function close(timeoutMs = 10_000) {
    const s = server
    server = null
    const closed = s === null ? Promise.resolve() : new Promise<void>((resolve) => s.close(() => resolve()))
    s?.closeIdleConnections()
    await drain.close(timeoutMs)
    s?.closeAllConnections()
    await closed
  }

  return { listen, close }
}

type Message = { kind: 'ok'; value: unknown } | { kind: 'too_large' } | { kind: 'invalid' }

/** Reads one JSON message, refusing past `limit` — by its declared length, before a byte is read. */
async function readMessage(req: IncomingMessage, limit: number): Promise<Message> {
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > limit) return { kind: 'too_large' }
  const bytes = await collectBody(req, limit)
  if (bytes === null) return { kind: 'too_large' }
  try {
    return { kind: 'ok', value: JSON.parse(bytes.toString('utf8')) }
  } catch {
    return { kind: 'invalid' }
  }
}

/**
 * The answer to a request whose body is still unread closes the connection, lingering so that a
 * client still uploading reads the answer instead of a reset.
 */
function closeUnread(req: IncomingMessage, res: ServerResponse): Record<string, string> {
  if (req.complete) return {}
  lingerAfterAnswer(req, res)
  return { connection: 'close' }
}

/**
 * The bearer token, unless the request's other identity headers (`X-Aegis-Agent`, an agent token
 * in `x-api-key` or `x-goog-api-key`) name another agent: then, as at the gate, two identities are
 * no identity — a token no agent has (`agent_auth_invalid`), never the bearer's.
 */
function requestToken(req: IncomingMessage): string | null {
  const bearer = bearerToken(req.headers.authorization)
  const header = req.headers['x-aegis-agent']
  const aegisAgent = Array.isArray(header) ? header.join(', ') : (header ?? null)
  const named = agentIdentity(req.rawHeaders, aegisAgent).token
  if (bearer === null || named === null || named === '' || named === bearer) return bearer
  return `${bearer}, ${named}`
}

/**
 * The canonical request an HTTP call refused before any MCP message is read is recorded as; the
 * ledger keeps `target`'s path only (no query), bounded and sanitised like the gate's.
 */
/** The MCP endpoint's own requests are not `/{service}/{path}` routes: recorded with the path as sent. */
const ENDPOINT = { routed: false } as const

function standIn(req: IncomingMessage, target = MCP_PATH): GateRequest {
  return {
    id: randomUUID(),
    channel: 'mcp',
    receivedAt: Date.now(),
    method: req.method ?? 'POST',
    target,
    rawHeaders: [],
    agentToken: null,
    targetHost: null,
    contentLength: null,
    body: null,
    clientAddress: req.socket.remoteAddress ?? null,
  }
}
