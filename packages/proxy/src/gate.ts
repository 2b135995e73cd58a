import { once } from 'node:events'
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { Socket } from 'node:net'
import { refuse } from '@aegis/guard'
import pino, { type Logger } from 'pino'
import type { AuditSink } from './audit.js'
import { GateEngine, type GateLimits, type Outcome } from './engine.js'
import { describeError } from './errors.js'
import { parserRefusal, requestLine, writeRawProblem } from './http/client-error.js'
import { fromIncoming, unparsedRequest } from './http/request.js'
import { pump, sendProblem } from './http/respond.js'
import { type CredentialSource, LiveState } from './snapshot.js'
import { PinnedDispatchers } from './upstream/dispatcher.js'
import { AddressResolver, type LookupFunction, type ResolveEntry } from './upstream/resolve.js'

export interface GateOptions {
  /** The credential store; polled for changes, decrypted into memory once per change. */
  credentials: CredentialSource
  /** The audit ledger. Nothing is forwarded before its entry is committed here. */
  audit: AuditSink
  logger?: Logger
  /** Interface to bind. Default 127.0.0.1. */
  host?: string
  /** Port to bind; 0 takes a free port. Default 3100. */
  port?: number
  /** Serve HTTPS with this certificate and key (PEM). */
  tls?: { cert: string | Buffer; key: string | Buffer }
  limits?: Partial<GateLimits> & {
    /** How long `close()` waits for in-flight requests, ms. Default 10000. */
    shutdownTimeout?: number
    /** Largest request header block, bytes; larger is 431. Default 16384. */
    maxHeaderSize?: number
  }
  upstream?: {
    /** Extra CA certificates (PEM contents) trusted for upstream TLS. */
    ca?: ReadonlyArray<string | Buffer>
    /** Static `host:port → address:port` overrides; trusted by the address guard. */
    resolve?: readonly ResolveEntry[]
    /** CIDRs that may be dialled although private. */
    allowPrivate?: readonly string[]
    /** Name resolution to use instead of the system resolver (e.g. a DNS-over-HTTPS client). */
    lookup?: LookupFunction
    /** Connections per upstream address. Default 128. */
    connections?: number
  }
  /** How often the store's change token is compared, ms. Default 250. */
  pollIntervalMs?: number
}

export interface ListeningAddress {
  host: string
  port: number
  url: string
}

export interface Gate {
  /** Binds and starts serving; resolves once listening. */
  listen(): Promise<ListeningAddress>
  /** Stops accepting, drains in-flight requests (up to the shutdown timeout), records the stop. */
  close(): Promise<void>
  /** Serves one request; usable inside another Node HTTP server. */
  handle(req: IncomingMessage, res: ServerResponse): void
  /** Re-reads the credential store now if it changed (the poller also does this every 250 ms). */
  refresh(): void
}

const DEFAULTS = {
  host: '127.0.0.1',
  port: 3100,
  maxBodySize: 1_048_576,
  requestTimeout: 30_000,
  shutdownTimeout: 10_000,
  maxHeaderSize: 16_384,
}

/** Creates the gate: the HTTP adapter around the one request pipeline. */
export function createGate(options: GateOptions): Gate {
  const logger = options.logger ?? pino({ level: 'info' })
  const limits = {
    maxBodySize: options.limits?.maxBodySize ?? DEFAULTS.maxBodySize,
    requestTimeout: options.limits?.requestTimeout ?? DEFAULTS.requestTimeout,
  }
  const shutdownTimeout = options.limits?.shutdownTimeout ?? DEFAULTS.shutdownTimeout
  const state = new LiveState({
    source: options.credentials,
    pollIntervalMs: options.pollIntervalMs,
    onReload: (snapshot) => logger.info({ credentials: snapshot.byService.size }, 'credentials loaded'),
    onError: (error) =>
      logger.error({ err: describeError(error) }, 'credential reload failed; serving the last good set'),
  })
  const dispatchers = new PinnedDispatchers({
    ca: options.upstream?.ca,
    connectTimeoutMs: limits.requestTimeout,
    connections: options.upstream?.connections,
  })
  const engine = new GateEngine({
    state,
    audit: options.audit,
    logger,
    limits,
    resolver: new AddressResolver({
      overrides: options.upstream?.resolve,
      allowPrivate: options.upstream?.allowPrivate,
      lookup: options.upstream?.lookup,
    }),
    dispatchers,
  })

  let draining = false
  let inFlight = 0
  let drained: (() => void) | null = null
  const startedAt = Date.now()

  function done(): void {
    inFlight--
    if (inFlight === 0 && drained !== null) drained()
  }

  async function deliver(req: IncomingMessage, res: ServerResponse, outcome: Outcome, requestId: string) {
    if (outcome.kind === 'refused') {
      // A refused request's body is never read; closing the connection spares reading the rest.
      const unread = (req.readable && !req.readableEnded) || outcome.refusal.code === 'body_too_large'
      sendProblem(res, outcome.status, outcome.refusal, outcome.problem, {
        requestId,
        close: unread || draining,
      })
      if (unread) res.once('finish', () => req.socket.end())
      return
    }
    const headers = { ...outcome.headers, 'x-request-id': requestId }
    res.writeHead(outcome.status, headers)
    res.on('close', () => {
      if (!res.writableFinished) outcome.body.destroy()
    })
    try {
      const bytesOut = await pump(outcome.body, res)
      outcome.finish({ bytesOut })
    } catch (error) {
      res.destroy()
      outcome.finish({ bytesOut: 0, error })
    }
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    inFlight++
    res.once('close', done)
    const receivedAt = Date.now()
    const url = req.url ?? ''
    if (url === '/_aegis/health' || url.startsWith('/_aegis/health?')) {
      const body = JSON.stringify({
        status: draining ? 'draining' : 'ok',
        credentials: state.current.byService.size,
        uptimeMs: receivedAt - startedAt,
      })
      res.writeHead(draining ? 503 : 200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
      res.end(body)
      return
    }
    const gateRequest = fromIncoming(req, receivedAt)
    const pending = draining
      ? engine.reject(gateRequest, refuse('shutting_down', 'The gate is shutting down'))
      : engine.process(gateRequest)
    pending
      .then((outcome) => deliver(req, res, outcome, gateRequest.id))
      .catch((error: unknown) => {
        logger.error({ reqId: gateRequest.id, err: describeError(error) }, 'request handling failed')
        if (!res.headersSent) {
          const refusal = refuse('upstream_unreachable', 'The request could not be completed')
          res.writeHead(502, { 'content-type': 'application/problem+json', 'x-aegis-block': refusal.code })
        }
        res.destroy()
      })
  }

  function onClientError(error: Error & { code?: string; rawPacket?: Buffer }, socket: Socket): void {
    const refusal = parserRefusal(error)
    const { method, target } = requestLine(error.rawPacket)
    const request = unparsedRequest(method, target, socket.remoteAddress ?? null)
    writeRawProblem(socket, refusal, request.id)
    void engine.reject(request, refusal).catch(() => undefined)
  }

  let server: Server | null = null

  async function listen(): Promise<ListeningAddress> {
    const serverOptions = { maxHeaderSize: options.limits?.maxHeaderSize ?? DEFAULTS.maxHeaderSize }
    const s = options.tls
      ? createHttpsServer({ ...serverOptions, cert: options.tls.cert, key: options.tls.key }, handle)
      : createHttpServer(serverOptions, handle)
    s.on('clientError', onClientError)
    const host = options.host ?? DEFAULTS.host
    const port = options.port ?? DEFAULTS.port
    s.listen(port, host)
    try {
      await Promise.race([
        once(s, 'listening'),
        once(s, 'error').then(([error]) => {
          throw error
        }),
      ])
    } catch (error) {
      const code = (error as { code?: string }).code
      if (code === 'EADDRINUSE') throw new Error(`Port ${port} is already in use`)
      if (code === 'EACCES') throw new Error(`Permission denied binding ${host}:${port}`)
      if (code === 'EADDRNOTAVAIL') throw new Error(`Cannot bind ${host}: address not available`)
      throw error
    }
    server = s
    state.start()
    const address = s.address()
    const bound = typeof address === 'object' && address !== null ? address.port : port
    const scheme = options.tls ? 'https' : 'http'
    const shownHost = host.includes(':') ? `[${host}]` : host
    const url = `${scheme}://${shownHost}:${bound}`
    await options.audit.system('gate_start', `listening on ${url}`)
    return { host, port: bound, url }
  }

  async function close(): Promise<void> {
    if (draining) return
    draining = true
    state.stop()
    const s = server
    if (s !== null) {
      const closed = new Promise<void>((resolve) => s.close(() => resolve()))
      s.closeIdleConnections()
      if (inFlight > 0) {
        const drainedNow = new Promise<void>((resolve) => {
          drained = resolve
        })
        const timer = setTimeout(() => s.closeAllConnections(), shutdownTimeout)
        await drainedNow.catch(() => undefined)
        clearTimeout(timer)
      }
      s.closeAllConnections()
      await closed
    }
    await dispatchers.close()
    if (s !== null) await options.audit.system('gate_stop', 'drained and stopped')
  }

  return { listen, close, handle, refresh: () => state.refresh() }
}
