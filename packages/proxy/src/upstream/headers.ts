import { forwardRequestHeaders } from '@aegis/guard'
import { scanFormats } from '@aegis/inspect'
import type { RequestContext } from '../context.js'
import { credentialHeaderName } from '../inject.js'

/**
 * The agent's headers as they would be forwarded: hop-by-hop, identity, override, forwarding and
 * conventional credential headers gone, the configured extra names (`strip`, lower-case) and the
 * credential's own header name too (the vault's value replaces it), and every header whose value
 * holds a well-known credential format (the agent's own key, whatever the header is called).
 * Computed once per request, for both channels; inspection scans exactly what the upstream would
 * receive.
 */
export function upstreamHeaders(ctx: RequestContext, strip: ReadonlySet<string>): string[] {
  if (ctx.forwardHeaders !== null) return ctx.forwardHeaders
  const name = ctx.credential === null ? null : credentialHeaderName(ctx.credential)
  ctx.forwardHeaders = withoutCredentialValues(forwardRequestHeaders(ctx.req.rawHeaders, strip, name))
  return ctx.forwardHeaders
}

/**
 * Drops the headers whose value holds a well-known credential format. All values are scanned in
 * one pass (joined by LF, which no forwarded value holds), so the common request with no hit
 * costs one regex sweep and no copy of the array.
 */
function withoutCredentialValues(headers: string[]): string[] {
  if (headers.length === 0) return headers
  let joined = ''
  for (let i = 1; i < headers.length; i += 2) joined += i === 1 ? headers[i] : `\n${headers[i]}`
  const hits = scanFormats(joined)
  if (hits.length === 0) return headers
  const out: string[] = []
  let start = 0
  for (let i = 1; i < headers.length; i += 2) {
    const end = start + (headers[i] as string).length
    // Dropped when any hit overlaps the value (a hit may run on across the separator).
    if (!hits.some((h) => h.index < end && h.index + h.length > start)) {
      out.push(headers[i - 1] as string, headers[i] as string)
    }
    start = end + 1
  }
  return out
}

/** Every value of a request header (case-insensitive), in the order received. */
export function requestHeaderValues(rawHeaders: readonly string[], name: string): string[] {
  const out: string[] = []
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.toLowerCase() === name) out.push(rawHeaders[i + 1] as string)
  }
  return out
}
