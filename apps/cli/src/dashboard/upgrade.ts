/**
 * The WebSocket upgrade gate of `/ws`: checked on the raw request, before `handleUpgrade`, so a
 * refused client never gets a WebSocket. Path, Host, Origin, a live session with ledger:read, and
 * the socket cap; a refusal is a bare status line and the socket is destroyed.
 */
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { authorize } from '@aegis/access'
import { actorOf } from './actor.js'
import type { Auth } from './auth.js'
import type { DashboardDeps } from './deps.js'
import { isAllowedHost } from './host.js'
import { isAllowedOrigin } from './origin.js'
import { sessionCookie } from './session.js'

export function refuseUpgrade(socket: Duplex, status: 403 | 503): void {
  socket.end(
    `HTTP/1.1 ${status} ${status === 403 ? 'Forbidden' : 'Service Unavailable'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
  )
  socket.destroy()
}

/** True when this upgrade may become a feed socket. */
export async function upgradeAllowed(
  req: IncomingMessage,
  auth: Auth,
  deps: DashboardDeps,
  port: number,
): Promise<boolean> {
  const path = (req.url ?? '').split('?')[0]
  if (path !== '/ws') return false
  if (!isAllowedHost(req.headers.host, deps.allowedHosts)) return false
  if (!isAllowedOrigin(req.headers.origin, deps.allowedHosts, port)) return false
  const principal = auth.sessions.get(sessionCookie(req))
  if (principal === null) return false
  try {
    const actor = await actorOf(deps.users, principal)
    return authorize(actor, 'dashboard:view').allowed && authorize(actor, 'ledger:read').allowed
  } catch {
    return false
  }
}
