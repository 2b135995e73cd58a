/**
 * The dashboard's HTTP server: Host allowlist first (before routing, files, API or WebSocket), the
 * security headers on every response, the Origin/CSRF check on every write, then `/api/*`, `/ws`
 * (upgrade only) or the SPA's static files.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { connectionServerOptions, guardConnections } from '@aegis/proxy/internal'
import { WebSocketServer } from 'ws'
import { handleApi } from './api/router.js'
import { type Auth, createAuth } from './auth.js'
import type { DashboardDeps } from './deps.js'
import { LedgerFeed, MAX_SOCKETS } from './feed.js'
import { isAllowedHost } from './host.js'
import { writeRefusal } from './origin.js'
import { sendError, sendText, setSecurityHeaders } from './respond.js'
import { selectFeedProtocol } from './session-key.js'
import { serveStatic } from './static.js'
import { feedAllowed, refuseUpgrade, upgradeSession } from './upgrade.js'

export interface DashboardServer {
  /** Listens on host:port (0 = a free port); resolves with the address it got. */
  listen(host: string, port: number): Promise<AddressInfo>
  /** A new one-time login token (5 minutes, single use). */
  issueLoginToken(): string
  /** Closes the feed's sockets, then the server and its connections. */
  close(): Promise<void>
}

export function createDashboardServer(deps: DashboardDeps): DashboardServer {
  const auth: Auth = createAuth()
  const feed = new LedgerFeed(deps.ledger, deps.logger, (proof) => feedAllowed(auth, deps, proof))
  // Client messages are not part of the protocol: a tiny payload cap keeps them from costing memory.
  // The answered subprotocol is always `aegis.v1`, never the offer that carries the session key.
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: 1024,
    perMessageDeflate: false,
    handleProtocols: selectFeedProtocol,
  })
  let port = 0

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    setSecurityHeaders(res)
    if (!isAllowedHost(req.headers.host, deps.allowedHosts)) {
      sendText(res, 403, 'Forbidden host')
      return
    }
    const method = req.method ?? 'GET'
    let url: URL
    try {
      url = new URL(req.url ?? '/', 'http://dashboard.localhost')
    } catch {
      sendText(res, 400, 'Bad request')
      return
    }
    const isApi = url.pathname === '/api' || url.pathname.startsWith('/api/')
    if (method !== 'GET' && method !== 'HEAD') {
      const refusal = writeRefusal(req, deps.allowedHosts, port)
      if (refusal) {
        sendError(res, 403, refusal.code, refusal.message)
        return
      }
    }
    if (isApi) {
      void handleApi(req, res, url, auth, deps)
      return
    }
    if (url.pathname === '/ws') {
      sendText(res, 426, 'Upgrade required')
      return
    }
    if (method !== 'GET' && method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD')
      sendText(res, 405, 'Method not allowed')
      return
    }
    serveStatic(req, res, deps.staticRoot).catch(() => res.destroy())
  }

  // The gate's connection limits: a cap (more are closed as they arrive), and idle, header and request
  // timeouts. Without them any local process could hold connections here until the process ran out of
  // descriptors, and the gate beside the dashboard with it.
  const server: Server = createServer(
    { ...connectionServerOptions(deps.connections), requireHostHeader: false },
    onRequest,
  )
  guardConnections(server, deps.connections, deps.logger)
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy())
    void upgradeSession(req, auth, deps, port).then((proof) => {
      if (socket.destroyed) return
      if (proof === null) {
        refuseUpgrade(socket, 403)
        return
      }
      if (feed.size >= MAX_SOCKETS) {
        refuseUpgrade(socket, 503)
        return
      }
      wss.handleUpgrade(req, socket, head, (ws) => feed.add(ws, proof, auth.sessions.endsAt(proof.id)))
    })
  })

  // Without a 'connect' listener Node destroys the socket: a CONNECT (a client taking this port for
  // a forward proxy) got a bare hang-up. It is a method this server does not serve, like any other.
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    socket.on('error', () => socket.destroy())
    const body = 'Method not allowed'
    socket.end(
      'HTTP/1.1 405 Method Not Allowed\r\nallow: GET, HEAD, POST, PUT, DELETE\r\n' +
        `content-type: text/plain; charset=utf-8\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
    )
  })

  return {
    async listen(host, wanted) {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(wanted, host, () => {
          server.off('error', reject)
          resolve()
        })
      })
      const bound = server.address() as AddressInfo
      port = bound.port
      feed.start()
      return bound
    },
    issueLoginToken: () => auth.loginTokens.issue(),
    async close() {
      feed.close()
      wss.close()
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
    },
  }
}
