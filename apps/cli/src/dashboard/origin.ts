/**
 * The cross-site write guard of every non-GET request and of the WebSocket upgrade: the browser's
 * `Origin` must be this dashboard (`http://<allowed host>:<port>`), and writes must also carry
 * `X-Aegis-CSRF: 1`, a header no cross-site form or simple request can set.
 */
import type { IncomingMessage } from 'node:http'
import { hostnameOf, isAllowedHostname } from './host.js'

const ORIGIN = /^http:\/\/([^/]+)$/

/** True when `origin` is `http://<allowed host>:<port>` exactly (the port is required). */
export function isAllowedOrigin(
  origin: string | undefined,
  extra: ReadonlySet<string>,
  port: number,
): boolean {
  if (origin === undefined) return false
  const match = ORIGIN.exec(origin.toLowerCase())
  if (!match) return false
  const authority = match[1] ?? ''
  const hostname = hostnameOf(authority)
  if (hostname === null || !isAllowedHostname(hostname, extra)) return false
  return authority === `${hostname}:${port}`
}

export interface Refusal {
  code: 'forbidden_origin' | 'csrf_header_missing'
  message: string
}

/** Null when a write request may proceed, else why not (answered 403). */
export function writeRefusal(req: IncomingMessage, extra: ReadonlySet<string>, port: number): Refusal | null {
  const origin = req.headers.origin
  if (!isAllowedOrigin(origin, extra, port)) {
    return {
      code: 'forbidden_origin',
      message: origin === undefined ? 'Origin header missing' : 'Origin not allowed',
    }
  }
  if (req.headers['x-aegis-csrf'] !== '1') {
    return { code: 'csrf_header_missing', message: 'X-Aegis-CSRF: 1 header missing' }
  }
  return null
}
