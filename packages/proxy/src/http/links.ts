import type { IncomingMessage } from 'node:http'
import type { TLSSocket } from 'node:tls'
import type { LinkRebase } from '@aegis/guard'
import type { ForwardedOutcome } from '../engine.js'

/** A `Host` the agent sent that can stand in a URL as written: a name or IP literal, and a port. */
const AUTHORITY = /^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/

/**
 * Where the agent reaches the upstream this answer came from, for `rebaseLinkHeaders`: the gate as
 * the agent addressed it (`Host`, and the scheme of its connection) and the service it named.
 * Null when the answer came from another host than the service's bare path reaches, or the agent's
 * `Host` cannot stand in a URL (links then stay as the upstream wrote them).
 */
export function gateLinkBase(req: IncomingMessage, outcome: ForwardedOutcome): LinkRebase | null {
  const upstream = outcome.upstream()
  const host = req.headers.host
  if (upstream === null || host === undefined || !AUTHORITY.test(host)) return null
  const scheme = (req.socket as TLSSocket).encrypted === true ? 'https' : 'http'
  return { host: upstream.host, port: upstream.port, base: `${scheme}://${host}/${upstream.service}` }
}
