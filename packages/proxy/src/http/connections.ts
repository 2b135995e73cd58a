import type { Server as HttpServer, IncomingMessage, ServerResponse } from 'node:http'
import type { Server as HttpsServer } from 'node:https'
import type { Socket } from 'node:net'
import { Server as TlsServer } from 'node:tls'
import { RateLimitedWarning } from '@aegis/guard'
import type { Logger } from '../logger.js'
import { ContinueOnRead } from './continue.js'
import { announcesBody } from './request.js'

/** Limits on the client connections of an HTTP channel (the gate, the MCP streamable HTTP server). */
export interface ConnectionLimits {
  /**
   * Longest an open connection may sit without a request in progress — before its first byte and
   * between keep-alive requests — ms.
   */
  idleTimeout: number
  /** Longest time to receive a whole request header block, from the connection's or the request's start, ms. */
  headersTimeout: number
  /**
   * Longest silence while a request body is being received (a stalled upload), ms; the gate's own
   * upstream deadline is this long. A client holding back its answer may pause up to a minute.
   */
  requestTimeout: number
  /** Most client connections open at once; more are closed as they arrive. */
  maxConnections: number
  /**
   * Largest request header block, bytes: the HTTP parser answers 431 beyond it, and the MCP tool
   * refuses headers over it the same way (`headers_too_large`).
   */
  maxHeaderSize: number
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  idleTimeout: 10_000,
  headersTimeout: 10_000,
  requestTimeout: 30_000,
  // Below the common 1024-descriptor limit, with room for the upstream pools, ledger and vault.
  maxConnections: 512,
  // Node's own default (`--max-http-header-size`).
  maxHeaderSize: 16_384,
}

/** The limits with every one left out (or undefined) at its default. */
export function connectionLimits(given: Partial<ConnectionLimits> = {}): ConnectionLimits {
  return {
    idleTimeout: given.idleTimeout ?? DEFAULT_CONNECTION_LIMITS.idleTimeout,
    headersTimeout: given.headersTimeout ?? DEFAULT_CONNECTION_LIMITS.headersTimeout,
    requestTimeout: given.requestTimeout ?? DEFAULT_CONNECTION_LIMITS.requestTimeout,
    maxConnections: given.maxConnections ?? DEFAULT_CONNECTION_LIMITS.maxConnections,
    maxHeaderSize: given.maxHeaderSize ?? DEFAULT_CONNECTION_LIMITS.maxHeaderSize,
  }
}

/** A request's silence limit runs this much past the upstream deadline, so the gate's 504 goes out first. */
const ANSWER_MARGIN_MS = 1000
/**
 * Once the request is read, silence means the answer is on its way (the upstream deadlines bound
 * that) or the client holds it back: a client may pause reading, but not for a minute — one that
 * never reads would otherwise hold its connection (and its upstream one) for good.
 */
const SLOW_READER_MS = 60_000
/** Node's own whole-request deadline (300 s) stays; it must not be shorter than the header one. */
const NODE_REQUEST_TIMEOUT_MS = 300_000

/**
 * The Node server options that enforce the limits in the HTTP parser: pass them to `createServer`.
 * Node checks the header deadline on a timer, every 30 s by default (a 10 s limit then held a
 * connection for up to 40 s); it runs here every tenth of the limit, between 10 ms and 1 s.
 */
export function connectionServerOptions(limits: ConnectionLimits) {
  return {
    IncomingMessage: ContinueOnRead,
    headersTimeout: limits.headersTimeout,
    requestTimeout: Math.max(NODE_REQUEST_TIMEOUT_MS, limits.headersTimeout),
    keepAliveTimeout: limits.idleTimeout,
    connectionsCheckingInterval: Math.min(1000, Math.max(10, Math.floor(limits.headersTimeout / 10))),
    maxHeaderSize: limits.maxHeaderSize,
    // Node would answer a request without Host a bare 400 (no request id, no ledger row): each
    // channel refuses it itself (`ProtocolRefusals`, the dashboard's host check).
    requireHostHeader: false,
  }
}

/**
 * Applies the connection limits a server's parser does not: the connection cap (with one warning
 * per 10 s while it is hit), the idle limit before the first request, the silence limit while a
 * request is in progress, and `Expect: 100-continue` answered on the first read of the body. The
 * server must have been created with `connectionServerOptions`.
 */
export function guardConnections(
  server: HttpServer | HttpsServer,
  limits: ConnectionLimits,
  logger: Logger,
): void {
  server.maxConnections = limits.maxConnections
  // Node keeps the first 2000 header lines and drops the rest, after its parser framed the request
  // by all of them: a Content-Length past the 2000th gave a body the gate never saw (forwarded
  // without it). Every line is kept; `maxHeaderSize` bounds them.
  server.maxHeadersCount = 0
  const full = new RateLimitedWarning((refused) =>
    logger.warn(
      { maxConnections: limits.maxConnections, refused },
      'connection limit reached: new connections are closed until others finish',
    ),
  )
  server.on('drop', () => full.hit())
  // The HTTP parser reads the TLS socket, not the TCP one under it (the handshake has its own limit).
  const opened = server instanceof TlsServer ? 'secureConnection' : 'connection'
  server.on(opened, (socket: Socket) => socket.setTimeout(limits.idleTimeout))
  const receiving = limits.requestTimeout + ANSWER_MARGIN_MS
  const answering = Math.max(SLOW_READER_MS, 2 * limits.requestTimeout)
  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket
    // (`req.complete` is not set yet: 'request' comes with the header block, before the message ends.)
    if (!announcesBody(req) || req.complete) {
      socket.setTimeout(answering)
      return
    }
    socket.setTimeout(receiving)
    // After the answer, Node's own keep-alive limit takes over.
    req.once('end', () => {
      if (!res.writableEnded) socket.setTimeout(answering)
    })
  })
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (req instanceof ContinueOnRead) req.continueOnRead(res)
    else res.writeContinue()
    server.emit('request', req, res)
  })
}
