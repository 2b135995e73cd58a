import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import { refuse } from '@aegis/guard'
import type { GateEngine } from '../engine.js'
import type { Channel } from '../types.js'
import { writeRawProblem } from './client-error.js'
import { lingerAfterRawAnswer } from './linger.js'
import { unparsedRequest } from './request.js'

/**
 * The `connect` listener of a server that is no forward proxy (the gate, the MCP HTTP endpoint):
 * an agent trying `HTTPS_PROXY=http://127.0.0.1:<port>`. Without one, Node destroys the socket, so
 * the agent got a bare hang-up and the ledger no row. It is a refusal like any other: answered
 * `400 bad_request` with `detail`, recorded on `channel`, then closed.
 */
export function refuseConnect(
  engine: GateEngine,
  channel: Channel,
  detail: string,
): (req: IncomingMessage, socket: Socket) => void {
  return (req, socket) => {
    socket.on('error', () => socket.destroy())
    const refusal = refuse('bad_request', detail)
    const request = unparsedRequest('CONNECT', req.url ?? '', socket.remoteAddress ?? null, channel)
    writeRawProblem(socket, refusal, request.id)
    // Whatever the client sends next (a TLS hello) is read and dropped until it closes, so the
    // close is not a reset that loses the answer.
    lingerAfterRawAnswer(socket)
    socket.resume()
    void engine.reject(request, refusal).catch(() => undefined)
  }
}
