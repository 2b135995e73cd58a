import type { IncomingMessage } from 'node:http'
import { browserRefusal, type HostAllowlist, parseHostAllowlist, type Refusal } from '@aegis/guard'

/** Distinct accepted `Host` values remembered, so the usual request skips the parse. */
const REMEMBERED = 64

/**
 * The gate's defence against web pages (see `browserRefusal` in @aegis/guard): a `Host` naming
 * neither this machine nor `gate.allowed_hosts`, or a request carrying `Origin` /
 * `Sec-Fetch-Site`, is refused before anything else — `/_aegis/*` included.
 */
export class CallerCheck {
  readonly #allow: HostAllowlist
  readonly #accepted = new Set<string>()

  constructor(allowedHosts: readonly string[] = []) {
    this.#allow = parseHostAllowlist(allowedHosts)
  }

  refusal(req: IncomingMessage): Refusal | null {
    const headers = req.headers
    const host = headers.host
    // The usual agent request: a Host seen before, no browser headers — two lookups, no parse.
    if (
      host !== undefined &&
      this.#accepted.has(host) &&
      headers.origin === undefined &&
      headers['sec-fetch-site'] === undefined
    ) {
      return null
    }
    const refusal = browserRefusal(headers, this.#allow)
    if (refusal === null && host !== undefined && this.#accepted.size < REMEMBERED) this.#accepted.add(host)
    return refusal
  }
}
