/**
 * Where a request carries its session's key beside the cookie. An API call sends it in
 * `X-Aegis-Session`. A browser's WebSocket can set no header, only subprotocols: the SPA offers
 * `aegis.v1` and `aegis-key.<key>`, and the server selects `aegis.v1` (a browser fails a socket whose
 * server selects no protocol, or one it did not offer), so the key is never echoed back.
 */
import type { IncomingMessage } from 'node:http'
import { type SessionProof, sessionCookie } from './session.js'

export const SESSION_KEY_HEADER = 'x-aegis-session'
/** The feed's protocol, the one the server selects. */
export const FEED_PROTOCOL = 'aegis.v1'
/** The offer that carries the key: `aegis-key.<key>` (base64url is a valid protocol token). */
export const KEY_PROTOCOL_PREFIX = 'aegis-key.'
/** 32 random bytes, base64url: anything else is no key. */
const KEY_SHAPE = /^[A-Za-z0-9_-]{43}$/

function proof(id: string | undefined, key: string | undefined): SessionProof | null {
  if (id === undefined || key === undefined || !KEY_SHAPE.test(key)) return null
  return { id, key }
}

/** The cookie and `X-Aegis-Session` of an API request; null unless both are there (one, exactly). */
export function apiSessionProof(req: IncomingMessage): SessionProof | null {
  const header = req.headers[SESSION_KEY_HEADER]
  return proof(sessionCookie(req), typeof header === 'string' ? header.trim() : undefined)
}

/** The offered subprotocols of an upgrade, trimmed, in order. */
function offeredProtocols(req: IncomingMessage): string[] {
  const header = req.headers['sec-websocket-protocol']
  if (typeof header !== 'string') return []
  return header
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')
}

/**
 * The cookie and the key offered as `aegis-key.<key>` of a feed upgrade; null unless `aegis.v1` is
 * offered too (the protocol the server answers) and exactly one key is.
 */
export function feedSessionProof(req: IncomingMessage): SessionProof | null {
  const offered = offeredProtocols(req)
  if (!offered.includes(FEED_PROTOCOL)) return null
  const keys = offered.filter((p) => p.startsWith(KEY_PROTOCOL_PREFIX))
  if (keys.length !== 1) return null
  return proof(sessionCookie(req), keys[0]?.slice(KEY_PROTOCOL_PREFIX.length))
}

/** ws's `handleProtocols`: always `aegis.v1` (an upgrade without it was refused before). */
export function selectFeedProtocol(protocols: Set<string>): string | false {
  return protocols.has(FEED_PROTOCOL) ? FEED_PROTOCOL : false
}
