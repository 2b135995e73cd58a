import type { IncomingMessage } from 'node:http'
import { Socket } from 'node:net'

/**
 * How long, and how much, a refused request's unread body is read and thrown away before the
 * connection is closed anyway. Closing with unread bytes makes the kernel send a reset, and a
 * client still uploading (a 5 MB body over a 1 MiB limit) then loses the refusal it was sent.
 * 2 s and 8 MiB let curl and a client that writes its whole body first read the answer; a client
 * that keeps sending past either bound is cut off.
 */
const LINGER_MS = 2000
const LINGER_BYTES = 8 * 1_048_576

/**
 * Marks a request whose answer is sent before its body was read: once the answer is written, the
 * connection is half-closed and the rest of the body is read and discarded (bounded in bytes and
 * time) until the client closes or stops — nginx's lingering close — and only then closed. Send
 * the answer with `Connection: close`.
 */
export function lingerAfterAnswer(req: IncomingMessage): void {
  if (req.complete) return
  // Node closes a `Connection: close` connection with destroySoon() once the response is written
  // (lib/_http_server.js, resOnFinish): on this socket, that close becomes the lingering one.
  const socket = req.socket
  socket.destroySoon = () => linger(socket, req)
}

function linger(socket: Socket, req: IncomingMessage): void {
  const closeWhenWritten = () => Socket.prototype.destroySoon.call(socket)
  if (req.complete || req.destroyed) {
    closeWhenWritten()
    return
  }
  socket.end()
  const timer = setTimeout(() => socket.destroy(), LINGER_MS)
  timer.unref()
  socket.once('close', () => clearTimeout(timer))
  let discarded = 0
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.length
    if (discarded > LINGER_BYTES) socket.destroy()
  })
  // The whole body was read: nothing left unread, so the close is a clean one.
  req.once('end', closeWhenWritten)
  req.resume()
}
