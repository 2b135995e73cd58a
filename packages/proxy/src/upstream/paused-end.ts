import type { Socket } from 'node:net'

/**
 * undici 7's HTTP/1 parser, as far as this needs it: it is on the socket under the symbol
 * described `parser` while a connection is in use.
 */
interface PausableParser {
  paused: boolean
  resume(): void
  /** The llhttp (WebAssembly) instance and this parser's pointer in it. */
  llhttp: { llhttp_resume(ptr: number): void }
  ptr: number
}

/** The undici parser on `socket` (present from the moment undici took the connection), or null. */
export function parserOf(socket: Socket): PausableParser | null {
  for (const symbol of Object.getOwnPropertySymbols(socket)) {
    if (symbol.description !== 'parser') continue
    const parser = (socket as unknown as Record<symbol, unknown>)[symbol] as Partial<PausableParser> | null
    if (
      parser &&
      typeof parser.paused === 'boolean' &&
      typeof parser.resume === 'function' &&
      typeof parser.llhttp?.llhttp_resume === 'function' &&
      typeof parser.ptr === 'number'
    ) {
      return parser as PausableParser
    }
  }
  return null
}

/**
 * undici 7 (nodejs/undici#5360, fixed in 8 only, which needs Node 22) throws an uncatchable
 * `assert(!this.paused)` from the socket's `end` handler when an upstream closes a connection
 * whose last response body the gate is holding back (a reader slower than the upstream): the
 * whole gate process died. `end` comes only once every byte the upstream sent was read, so
 * nothing is left to hold back: resuming the parser first lets it finish the response (or fail
 * it as truncated) as undici 8 does. Registered before undici's own handler.
 *
 * The reader may ask for a pause again at once (its stream is still full: a compressed answer's
 * decoder holds the last chunks back), leaving the parser paused with nothing left to parse; undici
 * then finished it all the same (the same assertion, or, caught, a response that never ended: the
 * agent waited for the body deadline and the row said `allowed`). That pause is lifted too: the
 * response completes (a body the close delimits) or fails as cut off (a Content-Length not
 * reached) at once; the reader still gets what it holds at its own pace.
 */
export function resumeParserAtEnd(socket: Socket): void {
  socket.prependListener('end', () => {
    const parser = parserOf(socket)
    if (parser?.paused !== true) return
    parser.resume()
    if (parser.paused) forceRunning(parser)
  })
}

/** Lifts a pause the reader asked for again when nothing is left to parse. */
function forceRunning(parser: PausableParser): void {
  parser.llhttp.llhttp_resume(parser.ptr)
  parser.paused = false
}
