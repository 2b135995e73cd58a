import { rmSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { dirname, join } from 'node:path'
import { describeError } from '../errors.js'
import { type Logger, SILENT_LOGGER } from '../logger.js'
import { ADMIN_SOCKET, checkSocketPath, freeSocketPath, preparePrivateDir } from './socket.js'

/** What every admin answer carries: where the unseal stands. */
export interface AdminStatus {
  sealed: boolean
  /** Shares needed, or null when the key is not split. */
  threshold: number | null
  /** Shares given so far. */
  progress: number
}

/** `caller`: who the token belongs to (a user name), for the log and the handlers; none under bootstrap. */
export type AdminVerdict = { ok: true; caller?: string } | { ok: false; status: number; message: string }

/**
 * The caller's verdict on a request's user token (undefined when none was sent); a promise when the
 * users live in a database the host reaches asynchronously (PostgreSQL).
 */
export type AdminAuthorize = (token: string | undefined) => AdminVerdict | Promise<AdminVerdict>

/**
 * What the admin channel does; the host supplies it (the gate command wires a sealable vault). A
 * handler that throws answers 400 with the error's message, which must be written for the operator
 * and never quote a share.
 */
export interface AdminHandlers {
  status(): AdminStatus
  /** `caller` as the verdict named it (a host records who unsealed or sealed). */
  unseal(share: string, caller?: string): Promise<AdminStatus>
  resetUnseal(): AdminStatus
  seal(caller?: string): AdminStatus
}

export interface AdminServerOptions {
  /** A directory made private (0700) before the socket is created in it. */
  dir: string
  authorize: AdminAuthorize
  handlers: AdminHandlers
  logger?: Logger
}

export interface AdminServer {
  /** Creates the directory, picks a free socket path, listens; resolves with the path. */
  listen(): Promise<string>
  /** Stops listening and removes the socket file. */
  close(): Promise<void>
}

/** Bodies are one share or a flag: a few hundred bytes. */
const MAX_BODY = 8192

/**
 * The gate's local admin channel: HTTP over a Unix socket, `GET /status`, `POST /unseal
 * {share}` / `{reset: true}`, `POST /seal`; every answer is JSON, `{sealed, threshold, progress}` or
 * `{error}`. Each request may carry the caller's user token as `Authorization: Bearer <token>`;
 * `authorize` decides before anything else happens.
 */
export function createAdminServer(options: AdminServerOptions): AdminServer {
  const logger = options.logger ?? SILENT_LOGGER
  const { handlers } = options
  let server: Server | null = null
  let path: string | null = null

  function send(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
    res.end(JSON.stringify(body))
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const verdict = await options.authorize(bearer(req.headers.authorization))
    if (!verdict.ok) {
      logger.warn({ admin: req.url, status: verdict.status }, 'admin request refused')
      return send(res, verdict.status, { error: verdict.message })
    }
    const target = `${req.method} ${req.url}`
    const by = verdict.caller === undefined ? {} : { by: verdict.caller }
    if (target === 'GET /status') return send(res, 200, handlers.status())
    if (target === 'POST /seal') {
      const status = handlers.seal(verdict.caller)
      logger.warn(by, 'vault sealed over the admin socket: proxied requests are refused (sealed)')
      return send(res, 200, status)
    }
    if (target === 'POST /unseal') {
      const body = await readJson(req)
      if (body?.reset === true) return send(res, 200, handlers.resetUnseal())
      if (typeof body?.share !== 'string') {
        return send(res, 400, { error: 'Expected {"share": "<share>"} or {"reset": true}' })
      }
      const wasSealed = handlers.status().sealed
      const status = await handlers.unseal(body.share, verdict.caller)
      if (wasSealed && !status.sealed) logger.info(by, 'vault unsealed over the admin socket: serving')
      else
        logger.info(
          { ...by, progress: status.progress, threshold: status.threshold },
          'unseal share accepted',
        )
      return send(res, 200, status)
    }
    send(res, 404, { error: `No admin endpoint ${target} (GET /status, POST /unseal, POST /seal)` })
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    route(req, res).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error)
      logger.warn({ admin: req.url, err: describeError(error) }, 'admin request failed')
      if (!res.headersSent) send(res, 400, { error: message })
      else res.destroy()
    })
  }

  return {
    async listen() {
      checkSocketPath(join(options.dir, ADMIN_SOCKET))
      preparePrivateDir(options.dir)
      const socketPath = await freeSocketPath(options.dir)
      const s = createServer(handle)
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject)
        s.listen(socketPath, () => {
          s.off('error', reject)
          resolve()
        })
      })
      server = s
      path = socketPath
      logger.info({ socket: socketPath, dir: dirname(socketPath) }, 'admin socket listening')
      return socketPath
    },
    async close() {
      const s = server
      server = null
      if (s === null) return
      await new Promise<void>((resolve) => {
        s.close(() => resolve())
        s.closeAllConnections()
      })
      if (path !== null) rmSync(path, { force: true })
    },
  }
}

function bearer(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')
  return match?.[1]
}

/** The request's JSON object body, or null when it is not one (empty, too large, not JSON). */
async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | null> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY) return null
    chunks.push(chunk as Buffer)
  }
  try {
    const value: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'))
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null
  } catch {
    return null
  } finally {
    for (const c of chunks) c.fill(0)
  }
}
