import type { Socket } from 'node:net'
import { parserOf } from './paused-end.js'

/** The parser method that sees each response head: `(statusCode, upgrade, shouldKeepAlive)`. */
type HeadersComplete = (
  this: unknown,
  statusCode: number,
  upgrade: boolean,
  shouldKeepAlive: boolean,
) => number

/**
 * The status a `100 Continue` is handed to undici as: an informational answer undici skips like
 * every other 1xx (the gate's own handler ignores every status below 200).
 */
const SKIPPED_INFORMATIONAL = 102

/** Parser prototypes already taught to skip an unsolicited `100 Continue`. */
const taught = new WeakSet<object>()

/**
 * RFC 9110 §15.2: a client must parse one or more 1xx answers before the final one, even ones it
 * did not expect. undici 7's HTTP/1 parser skips a 103 or a 102, but destroys the connection on a
 * `100 Continue` (the gate never sends `Expect`): an upstream, or a proxy in front of it, that
 * sends one before every answer made every request to it a 502 where any plain proxy passes the
 * answer on. Called once undici took `socket`: its parser's class (shared by every connection, and
 * changed once per process) hands a `100` on as another 1xx, which undici skips; everything else
 * reaches undici unchanged. Without a parser of the shape this knows, nothing changes: the 100 is
 * still refused as malformed.
 */
export function skipUnsolicitedContinue(socket: Socket): void {
  const parser = parserOf(socket)
  if (parser === null) return
  const proto = Object.getPrototypeOf(parser) as { onHeadersComplete?: unknown } | null
  if (proto === null || taught.has(proto) || typeof proto.onHeadersComplete !== 'function') return
  const original = proto.onHeadersComplete as HeadersComplete
  const onHeadersComplete: HeadersComplete = function (this: unknown, statusCode, upgrade, shouldKeepAlive) {
    return original.call(
      this,
      statusCode === 100 && !upgrade ? SKIPPED_INFORMATIONAL : statusCode,
      upgrade,
      shouldKeepAlive,
    )
  }
  proto.onHeadersComplete = onHeadersComplete
  taught.add(proto)
}
