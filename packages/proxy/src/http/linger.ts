import type { IncomingMessage, ServerResponse } from 'node:http'
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
 * the answer on `res` with `Connection: close`.
 */
export function lingerAfterAnswer(req: IncomingMessage, res: ServerResponse): void {
  if (req.complete) return
  const socket = req.socket
  let discarded = 0
  // Read from the moment the answer is written (so an `Expect: 100-continue` gets no 100), before
  // Node's own handler would dump the body unseen: the bytes are counted here.
  res.prependOnceListener('finish', () => {
    req.on('data', (chunk: Buffer) => {
      discarded += chunk.length
      if (discarded > LINGER_BYTES) socket.destroy()
    })
    req.resume()
  })
  // Node closes a `Connection: close` connection with destroySoon() once the response is written
  // (lib/_http_server.js, resOnFinish): on this socket, that close becomes the lingering one.
  socket.destroySoon = () => {
    if (req.complete || req.destroyed) {
      Socket.prototype.destroySoon.call(socket)
      return
    }
    socket.end()
    closeAfterLingering(socket)
    // The whole body was read: nothing left unread, so the close is a clean one.
    req.once('end', () => Socket.prototype.destroySoon.call(socket))
  }
}

function closeAfterLingering(socket: Socket): void {
  const timer = setTimeout(() => socket.destroy(), LINGER_MS)
  timer.unref()
  socket.once('close', () => clearTimeout(timer))
}

/** Sockets answered by `lingerAfterRawAnswer`, with the byte count read when they were. */
const rawLingering = new WeakMap<Socket, number>()

/**
 * The same lingering close for an answer written straight to the socket after the HTTP parser
 * rejected the request (a header block over the limit, bad framing): call after `socket.end(answer)`.
 * The parser reports every later chunk as another error; pass those to `discardedWhileLingering`.
 */
export function lingerAfterRawAnswer(socket: Socket): void {
  rawLingering.set(socket, socket.bytesRead)
  closeAfterLingering(socket)
  socket.once('end', () => socket.destroy())
}

/**
 * True for a socket lingering after a raw answer: the bytes that made the parser fail again are
 * being thrown away (and the socket is closed once they pass the bound).
 */
export function discardedWhileLingering(socket: Socket): boolean {
  const start = rawLingering.get(socket)
  if (start === undefined) return false
  if (socket.bytesRead - start > LINGER_BYTES) socket.destroy()
  return true
}
