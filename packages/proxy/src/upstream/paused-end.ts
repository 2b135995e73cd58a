import type { Socket } from 'node:net'

/**
 * undici 7's HTTP/1 parser, as far as this needs it: it is on the socket under the symbol
 * described `parser` while a connection is in use.
 */
interface PausableParser {
  paused: boolean
  resume(): void
}

function parserOf(socket: Socket): PausableParser | null {
  for (const symbol of Object.getOwnPropertySymbols(socket)) {
    if (symbol.description !== 'parser') continue
    const parser = (socket as unknown as Record<symbol, unknown>)[symbol] as Partial<PausableParser> | null
    if (parser && typeof parser.paused === 'boolean' && typeof parser.resume === 'function') {
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
 */
export function resumeParserAtEnd(socket: Socket): void {
  socket.prependListener('end', () => {
    const parser = parserOf(socket)
    if (parser?.paused === true) parser.resume()
  })
}
