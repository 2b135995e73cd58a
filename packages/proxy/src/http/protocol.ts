import { randomUUID } from 'node:crypto'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Server as HttpsServer } from 'node:https'
import type { Socket } from 'node:net'
import { RateLimitedWarning, type Refusal, refuse } from '@aegis/guard'
import type { GateEngine } from '../engine.js'
import type { Logger } from '../logger.js'
import type { Channel } from '../types.js'
import { parserRefusal, requestLine, writeRawProblem } from './client-error.js'
import { discardedWhileLingering, lingerAfterRawAnswer } from './linger.js'
import { announcesBody, framingRefusal, hostHeaderRefusal, unparsedRequest } from './request.js'

export interface ProtocolRefusalsOptions {
  engine: GateEngine
  /** The channel the rows are recorded on. */
  channel: Channel
  /** Whether a target is `/{service}/{path}` (the gate) or the endpoint's own path (MCP). */
  routed: boolean
  logger: Logger
  /** The header deadline, named in the warning about connections closed for missing it. */
  headersTimeout: number
}

const UNMET_EXPECTATION = refuse('bad_request', 'Expect supports only "100-continue"')

/**
 * What an HTTP channel of the gate (the gate itself, the MCP streamable HTTP endpoint) refuses at
 * the protocol level, before its own handling. Node alone answers some of these bare (a 400 for a
 * parser error or a missing Host, a 417 for an `Expect` other than `100-continue`: no request id,
 * no ledger row), serves others it should not (two Host headers, `HTTP/2.0` read as HTTP/1.1), and
 * drops a request pipelined behind an Upgrade one unanswered. Here each is a typed refusal with
 * its row on `channel`, answered with the problem document that names it.
 *
 * The server must be created with `connectionServerOptions` (which leaves the Host check here),
 * and `install`ed before it listens.
 */
export class ProtocolRefusals {
  readonly #options: ProtocolRefusalsOptions
  /** Requests whose `Expect` asks for more than `100-continue` (see `install`). */
  readonly #unmetExpectation = new WeakSet<IncomingMessage>()
  /**
   * The request whose body a connection is still receiving: a parser refusal in that body belongs
   * to it (its own handling records the one ledger row, under this id).
   */
  readonly #receiving = new WeakMap<Socket, string>()
  readonly #slow: RateLimitedWarning

  constructor(options: ProtocolRefusalsOptions) {
    this.#options = options
    this.#slow = new RateLimitedWarning((closed) =>
      options.logger.warn(
        { closed, headersTimeout: options.headersTimeout },
        'closed connections that sent no request header in time',
      ),
    )
  }

  /**
   * Listens on `server` for what Node would otherwise answer by itself: parser refusals and
   * header timeouts (`clientError`), and unmet expectations, handed to `handler` (the server's
   * request listener) marked so that `refusal` refuses them.
   */
  install(server: Server | HttpsServer, handler: (req: IncomingMessage, res: ServerResponse) => void): void {
    server.on('clientError', (error: Error & { code?: string; rawPacket?: Buffer }, socket: Socket) =>
      this.#onClientError(error, socket),
    )
    server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
      this.#unmetExpectation.add(req)
      handler(req, res)
    })
  }

  /**
   * The refusal for a request Node handed on that must not be served — a version the gate does
   * not speak, faulty framing, no Host or several, an unmet `Expect` — or null. An Upgrade
   * request's connection, and one whose framing is faulty, close after the answer: the parser
   * stops at an Upgrade, so bytes pipelined after it would be dropped unanswered.
   */
  refusal(req: IncomingMessage, res: ServerResponse): Refusal | null {
    if (req.headers.upgrade !== undefined) res.shouldKeepAlive = false
    const framing = framingRefusal(req)
    if (framing !== null) {
      res.shouldKeepAlive = false
      return framing
    }
    return hostHeaderRefusal(req) ?? (this.#unmetExpectation.has(req) ? UNMET_EXPECTATION : null)
  }

  /**
   * `req`, recorded under `requestId`, is still receiving its body: a parser refusal in that body
   * is answered naming its row, and no second row is written.
   */
  receivingBody(req: IncomingMessage, requestId: string): void {
    if (req.complete || !announcesBody(req)) return
    const socket = req.socket
    this.#receiving.set(socket, requestId)
    req.once('end', () => {
      if (this.#receiving.get(socket) === requestId) this.#receiving.delete(socket)
    })
  }

  #onClientError(error: Error & { code?: string; rawPacket?: Buffer }, socket: Socket): void {
    // The rest of a request already answered straight on the socket.
    if (discardedWhileLingering(socket)) return
    if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT' && socket.writable) {
      // Silent or trickling (slowloris): not a request, so no ledger row; a 408 for whoever listens.
      this.#slow.hit()
      writeRawProblem(
        socket,
        refuse('request_timeout', 'The request header was not received in time'),
        randomUUID(),
      )
      socket.destroySoon()
      return
    }
    // Only the HTTP parser's refusals are answered. A client that hung up — reset, or closed in the
    // middle of a request (whose own handling records it) — or a failed TLS handshake (no channel
    // to answer on) has nothing to be answered, and nothing more to record.
    const parserError = error.code?.startsWith('HPE_') === true && error.code !== 'HPE_INVALID_EOF_STATE'
    if (!parserError || !socket.writable) {
      socket.destroy()
      return
    }
    const refusal = parserRefusal(error)
    const inFlight = this.#receiving.get(socket)
    if (inFlight !== undefined) {
      // The head was parsed and handed on; its body broke the framing. That request's own handling
      // sees the body end early and records it: the answer names that row, and no second row.
      writeRawProblem(socket, refusal, inFlight)
      lingerAfterRawAnswer(socket)
      return
    }
    const { channel, engine, routed } = this.#options
    const { method, target } = requestLine(error.rawPacket)
    const request = unparsedRequest(method, target, socket.remoteAddress ?? null, channel)
    writeRawProblem(socket, refusal, request.id)
    lingerAfterRawAnswer(socket)
    void engine.reject(request, refusal, { routed }).catch(() => undefined)
  }
}
