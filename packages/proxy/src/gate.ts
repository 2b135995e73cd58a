import { randomUUID } from 'node:crypto'
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { Readable } from 'node:stream'
import {
  hasLinkHeaders,
  problemDocument,
  REFUSAL_STATUS,
  rebaseLinkHeaders,
  refuse,
  retryAfterSeconds,
} from '@aegis/guard'
import { Drain } from './drain.js'
import { ClientLink, type ForwardedOutcome, type Outcome } from './engine.js'
import { CLIENT_CLOSED, describeError } from './errors.js'
import type { HealthReport } from './health.js'
import { bodyLinkUpstream, rebasePartsLinks, rebaseStreamLinks } from './http/body-links.js'
import { CallerCheck } from './http/callers.js'
import { refuseConnect } from './http/connect.js'
import {
  type ConnectionLimits,
  connectionLimits,
  connectionServerOptions,
  guardConnections,
} from './http/connections.js'
import { InternalRoutes, isInternalTarget, isLoopbackAddress } from './http/internal.js'
import { lingerAfterAnswer } from './http/linger.js'
import { gateLinkBase } from './http/links.js'
import { listenOn } from './http/listen.js'
import { ProtocolRefusals } from './http/protocol.js'
import { fromIncoming } from './http/request.js'
import { type Pumped, pump, sendProblem, sendRefusal } from './http/respond.js'
import type { MetricsExposition } from './observer.js'
import { createPipeline, DEFAULT_LIMITS, type PipelineOptions } from './setup.js'

export interface GateOptions extends PipelineOptions {
  /** Interface to bind. Default 127.0.0.1. */
  host?: string
  /** Port to bind; 0 takes a free port. Default 3100. */
  port?: number
  /**
   * Served at `GET /_aegis/metrics` (`@aegis/telemetry`; pass the same object as `observer` so it
   * counts the requests). Without it that path is a 404 like any unknown `/_aegis/` one.
   */
  metrics?: MetricsExposition
  /**
   * Bearer token every scrape of `/_aegis/metrics` must present (`observability.metrics_token`).
   * Without one, metrics are served only while the gate listens on a loopback address.
   */
  metricsToken?: string
  /**
   * Host names agents may reach the gate by besides `localhost`, `*.localhost` and IP addresses
   * (`gate.allowed_hosts`: a container or load-balancer name; `*.suffix` wildcards). A request
   * naming any other host is refused `host_denied`, and one a web page sent (`Origin`,
   * `Sec-Fetch-Site`) `origin_denied`: DNS rebinding and cross-site requests cannot use the gate.
   */
  allowedHosts?: readonly string[]
  /** Serve HTTPS with this certificate and key (PEM). */
  tls?: { cert: string | Buffer; key: string | Buffer }
  limits?: PipelineOptions['limits'] &
    Partial<Omit<ConnectionLimits, 'requestTimeout'>> & {
      /** How long `close()` waits for in-flight requests, ms. Default 10000. */
      shutdownTimeout?: number
    }
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
  /**
   * Serves one request; usable inside another Node HTTP server. The first call starts watching the
   * credential source (as `listen()` does); `close()` stops it.
   */
  handle(req: IncomingMessage, res: ServerResponse): void
  /** Re-reads the credential store now if it changed (the poller also does this every 250 ms). */
  refresh(): void
  /** What `/_aegis/health` answers now (draining once `close()` began), without a request. */
  health(): HealthReport
}

/** The client went away before the whole response was written. */
class ClientGoneError extends Error {
  constructor() {
    super('The client closed the connection before the response was complete')
    this.name = 'ClientGoneError'
  }
}

const DEFAULTS = { host: '127.0.0.1', port: 3100, shutdownTimeout: 10_000 }

/** Creates the gate: the HTTP adapter around the one request pipeline. */
export function createGate(options: GateOptions): Gate {
  const pipeline = createPipeline(options)
  const { engine, logger } = pipeline
  const shutdownTimeout = options.limits?.shutdownTimeout ?? DEFAULTS.shutdownTimeout
  const maxBodySize = options.limits?.maxBodySize ?? DEFAULT_LIMITS.maxBodySize
  const connections = connectionLimits(options.limits)

  const callers = new CallerCheck(options.allowedHosts)
  const requests = new Drain()
  const done = () => requests.leave()
  // Framing, version, Host and Expect refusals, and the parser's own (clientError): recorded and
  // answered with their request id where Node alone would answer bare, or serve what it should not.
  const protocol = new ProtocolRefusals({
    engine,
    channel: 'gate',
    routed: true,
    logger,
    headersTimeout: connections.headersTimeout,
  })
  const startedAt = Date.now()
  let loopbackOnly = false
  const internal = new InternalRoutes({
    metrics: options.metrics ?? null,
    token: options.metricsToken ?? null,
    loopbackOnly: () => loopbackOnly,
    logger,
  })

  /**
   * Answers with `outcome`. For a small body written whole, returns what the response's 'close'
   * must run (record how delivery ended): the caller's one 'close' listener runs it.
   */
  function deliver(
    req: IncomingMessage,
    res: ServerResponse,
    outcome: Outcome,
    requestId: string,
  ): (() => void) | null {
    if (outcome.kind === 'refused') {
      // The client is gone (its row says so, or the refusal's): nobody to answer.
      if (res.destroyed) return null
      sendRefusal(req, res, outcome.status, outcome.refusal, outcome.problem, {
        requestId,
        closing: requests.closing,
      })
      return null
    }
    if (res.destroyed) {
      // The agent hung up while the upstream was answering: nobody to deliver to, and no 'close'
      // event left to wait for.
      if (outcome.parts === null) outcome.body.destroy()
      outcome.finish({ bytesOut: 0, error: new ClientGoneError(), code: CLIENT_CLOSED })
      return null
    }
    // The headers object is this response's own (built by redaction): add to it, no copy.
    // The gate's id names the ledger row; the upstream's own (what its support asks for, what an
    // SDK such as openai's shows as `request_id`) is kept beside it.
    const upstreamId = outcome.headers['x-request-id']
    if (upstreamId === undefined) delete outcome.headers['x-upstream-request-id']
    else outcome.headers['x-upstream-request-id'] = upstreamId
    outcome.headers['x-request-id'] = requestId
    // A link to the upstream (pagination, a redirect) is followed through the gate, not around it.
    if (hasLinkHeaders(outcome.headers)) rebaseLinkHeaders(outcome.headers, gateLinkBase(req, outcome))
    // So is a next-page URL in a JSON body (`@odata.nextLink`, `next_page`): only the origin of a
    // whole value under a page-link key changes, and the answer grows by at most max_body_size.
    let parts = outcome.parts
    let body: Readable | null = null
    const linked = bodyLinkUpstream(req, outcome)
    if (linked !== null) {
      if (parts !== null) parts = rebasePartsLinks(req, outcome, linked, parts, maxBodySize)
      else body = rebaseStreamLinks(req, outcome, outcome.body, maxBodySize)
    }
    let length = 0
    try {
      res.writeHead(outcome.status, outcome.headers)
      if (parts === null) {
        // The head goes now, as the upstream sent it: an event stream's first event may be seconds
        // away (time to first token), and Node would hold the head until the first body write.
        res.flushHeaders()
      } else {
        // A small body, already redacted whole: one write (end() flushes the corked parts and the
        // head together), no stream machinery.
        for (const part of parts) length += part.length
        res.cork()
        for (let i = 0; i < parts.length - 1; i++) res.write(parts[i])
        res.end(parts.at(-1))
      }
    } catch (error) {
      // Node refused the head or a write: the row records the failure (the caller answers 502 or
      // cuts the connection), and 'close' has nothing left to record.
      if (parts === null) (body ?? outcome.body).destroy()
      outcome.finish({ bytesOut: 0, error })
      throw error
    }
    if (parts === null) {
      void stream(res, outcome, body ?? outcome.body)
      return null
    }
    // 'close' always follows, on keep-alive too; it is finished only if every byte was handed over.
    return () =>
      outcome.finish(
        res.writableFinished
          ? { bytesOut: length }
          : { bytesOut: 0, error: new ClientGoneError(), code: CLIENT_CLOSED },
      )
  }

  /** A large or streamed body, with backpressure; never rejects. */
  async function stream(res: ServerResponse, outcome: ForwardedOutcome, body: Readable): Promise<void> {
    let pumped: Pumped
    try {
      pumped = await pump(body, res)
    } catch (error) {
      pumped = { bytes: 0, error, clientGone: false }
    }
    if (pumped.error === undefined) {
      outcome.finish({ bytesOut: pumped.bytes })
      return
    }
    res.destroy()
    // What the agent got before the break is in the ledger, and whose side broke it.
    outcome.finish({
      bytesOut: pumped.bytes,
      error: pumped.error,
      ...(pumped.clientGone ? { code: CLIENT_CLOSED } : {}),
    })
  }

  /** The pipeline or the delivery threw: a bug or a broken socket. The agent gets a 502 if it can. */
  function failed(res: ServerResponse, requestId: string, error: unknown): void {
    logger.error({ reqId: requestId, err: describeError(error) }, 'request handling failed')
    if (res.headersSent || res.destroyed) {
      // Part of an answer is out: cutting the connection is the only honest end.
      res.destroy()
      return
    }
    const refusal = refuse('upstream_unreachable', 'The request could not be completed')
    sendProblem(res, REFUSAL_STATUS[refusal.code], refusal, problemDocument(refusal, requestId), {
      requestId,
      close: true,
    })
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    // An embedder's own server calls only `handle`: it must hot-reload like `listen()` does. The
    // poller's timers are unref'd, so they never keep the host's process alive; `close()` stops them.
    if (!requests.closing) pipeline.start()
    requests.enter()
    // The request's one 'close' listener, there before anything can throw: it leaves the drain,
    // then records how a small answer's delivery ended (`closed`, from deliver), or gives up on a
    // forwarded request not answered yet (`link`).
    let link: ClientLink | null = null
    let closed: (() => void) | null = null
    res.once('close', () => {
      done()
      if (closed !== null) closed()
      else if (link !== null && !res.headersSent) engine.abandon(link)
    })
    // (The gate never switches protocols: an Upgrade request is served as a plain one, and its
    // connection closes after the answer — see ProtocolRefusals.)
    const receivedAt = Date.now()
    const url = req.url ?? ''
    const browser = protocol.refusal(req, res) ?? callers.refusal(req)
    if (browser !== null) {
      if (isInternalTarget(url)) {
        // The gate's own namespace is never a ledger row; answer without one.
        lingerAfterAnswer(req, res)
        sendProblem(res, REFUSAL_STATUS[browser.code], browser, problemDocument(browser), {
          requestId: randomUUID(),
          close: true,
        })
        return
      }
      const gateRequest = fromIncoming(req, receivedAt)
      protocol.receivingBody(req, gateRequest.id)
      engine.reject(gateRequest, browser).then(
        (outcome) => {
          try {
            closed = deliver(req, res, outcome, gateRequest.id)
          } catch {
            res.destroy()
          }
        },
        () => res.destroy(),
      )
      return
    }
    if (url === '/_aegis/health' || url.startsWith('/_aegis/health?')) {
      // Sealed, draining or unaudited answers 503: a load balancer must not send traffic that
      // will be refused. While the ledger fails, the call may try one write (see LedgerHealth).
      const { status, sealed, ledger, credentials, refusal } = engine.health(requests.closing, receivedAt)
      const body = JSON.stringify({ status, sealed, ledger, credentials, uptimeMs: receivedAt - startedAt })
      const retryAfter = refusal === null ? undefined : retryAfterSeconds(refusal)
      const headers: Record<string, string | number> = {
        'content-type': 'application/json',
        'cache-control': 'no-store',
      }
      if (retryAfter !== undefined) headers['retry-after'] = retryAfter
      res.writeHead(status === 'ok' ? 200 : 503, headers)
      res.end(body)
      return
    }
    if (isInternalTarget(url)) {
      internal.serve(req, res)
      return
    }
    const gateRequest = fromIncoming(req, receivedAt)
    protocol.receivingBody(req, gateRequest.id)
    // A client that goes away before its answer: the engine gives up on the request (`abandon`:
    // not forwarded, or the upstream request aborted). After the head, the pump sees it.
    link = new ClientLink()
    const pending = requests.closing
      ? engine.reject(gateRequest, refuse('shutting_down', 'The gate is shutting down'))
      : engine.process(gateRequest, link)
    // One promise for the hand-over; deliver's own throw is caught here (a `.catch` would cost another).
    pending.then(
      (outcome) => {
        try {
          closed = deliver(req, res, outcome, gateRequest.id)
        } catch (error) {
          failed(res, gateRequest.id, error)
        }
      },
      (error: unknown) => failed(res, gateRequest.id, error),
    )
  }

  let server: Server | null = null

  async function listen(): Promise<ListeningAddress> {
    const serverOptions = connectionServerOptions(connections)
    const s = options.tls
      ? createHttpsServer(
          {
            ...serverOptions,
            cert: options.tls.cert,
            key: options.tls.key,
            handshakeTimeout: connections.idleTimeout,
          },
          handle,
        )
      : createHttpServer(serverOptions, handle)
    guardConnections(s, connections, logger)
    protocol.install(s, handle)
    s.on(
      'connect',
      refuseConnect(
        engine,
        'gate',
        'CONNECT is not supported: the gate is not a forward proxy; call /{service}/{path} on it instead',
      ),
    )
    const host = options.host ?? DEFAULTS.host
    const port = options.port ?? DEFAULTS.port
    const bound = await listenOn(s, host, port)
    server = s
    loopbackOnly = isLoopbackAddress((s.address() as AddressInfo).address)
    if (options.metrics !== undefined && options.metricsToken === undefined && !loopbackOnly) {
      logger.warn(
        { host },
        '/_aegis/metrics is refused on a non-loopback address without observability.metrics_token',
      )
    }
    pipeline.start()
    const scheme = options.tls ? 'https' : 'http'
    const shownHost = host.includes(':') ? `[${host}]` : host
    const url = `${scheme}://${shownHost}:${bound}`
    // A gate that starts without its key serves nothing until an unseal: its start says so, and
    // the sealed refusals that follow have their cause in the ledger.
    const sealed = engine.health(false).sealed
    await options.audit.system(
      'gate_start',
      `listening on ${url}${sealed ? ' (sealed: nothing is served until it is unsealed)' : ''}`,
    )
    return { host, port: bound, url }
  }

  async function close(): Promise<void> {
    if (requests.closing) return
    requests.startClosing()
    const s = server
    if (s !== null) {
      const closed = new Promise<void>((resolve) => s.close(() => resolve()))
      s.closeIdleConnections()
      if (requests.inFlight > 0) {
        // Past the timeout the connections are cut; their 'close' events end the wait.
        const timer = setTimeout(() => s.closeAllConnections(), shutdownTimeout)
        await requests.idle()
        clearTimeout(timer)
      }
      s.closeAllConnections()
      await closed
    }
    await pipeline.close()
    if (s !== null) await options.audit.system('gate_stop', 'drained and stopped')
  }

  const health = () => engine.health(requests.closing)
  return { listen, close, handle, refresh: pipeline.refresh, health }
}
