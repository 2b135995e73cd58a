/**
 * The WebSocket upgrade gate of `/ws`: checked on the raw request, before `handleUpgrade`, so a
 * refused client never gets a WebSocket. Path, Host, Origin, a live session (the cookie and the key
 * offered as a subprotocol) with ledger:read, and the socket cap; a refusal is a bare status line and the socket is destroyed. The session check,
 * `feedAllowed`, is the one the feed asks again for every open socket before it sends.
 */
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { authorize } from '@aegis/access'
import { actorOf } from './actor.js'
import type { Auth } from './auth.js'
import type { DashboardDeps } from './deps.js'
import { isAllowedHost } from './host.js'
import { isAllowedOrigin } from './origin.js'
import type { SessionProof } from './session.js'
import { feedSessionProof } from './session-key.js'

/** A feed socket frees when any closes: try again soon. */
const FULL_RETRY_AFTER_S = 5

export function refuseUpgrade(socket: Duplex, status: 403 | 503): void {
  const head =
    status === 403
      ? 'HTTP/1.1 403 Forbidden\r\n'
      : `HTTP/1.1 503 Service Unavailable\r\nRetry-After: ${FULL_RETRY_AFTER_S}\r\n`
  socket.end(`${head}Connection: close\r\nContent-Length: 0\r\n\r\n`)
  socket.destroy()
}

/** True while the session `proof` opens is live and its actor may view the dashboard and read the ledger. */
export async function feedAllowed(auth: Auth, deps: DashboardDeps, proof: SessionProof): Promise<boolean> {
  const principal = auth.sessions.get(proof)
  if (principal === null) return false
  try {
    const actor = await actorOf(deps.users, principal)
    return authorize(actor, 'dashboard:view').allowed && authorize(actor, 'ledger:read').allowed
  } catch {
    return false
  }
}

/** The session of an upgrade that may become a feed socket, or null when it may not. */
export async function upgradeSession(
  req: IncomingMessage,
  auth: Auth,
  deps: DashboardDeps,
  port: number,
): Promise<SessionProof | null> {
  const path = (req.url ?? '').split('?')[0]
  if (path !== '/ws') return null
  if (!isAllowedHost(req.headers.host, deps.allowedHosts)) return null
  if (!isAllowedOrigin(req.headers.origin, deps.allowedHosts, port)) return null
  const proof = feedSessionProof(req)
  if (proof === null) return null
  return (await feedAllowed(auth, deps, proof)) ? proof : null
}
