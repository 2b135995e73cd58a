import { forwardRequestHeaders } from '@aegis/guard'
import type { RequestContext } from '../context.js'
import { credentialHeaderName } from '../inject.js'

/**
 * The agent's headers as they would be forwarded: hop-by-hop, identity, override and forwarding
 * headers gone, and the credential's own header name too (the vault's value replaces it). Computed
 * once per request; inspection scans exactly what the upstream would receive.
 */
export function upstreamHeaders(ctx: RequestContext): string[] {
  if (ctx.forwardHeaders !== null) return ctx.forwardHeaders
  const name = ctx.credential === null ? null : credentialHeaderName(ctx.credential)
  ctx.forwardHeaders = forwardRequestHeaders(ctx.req.rawHeaders, name === null ? undefined : new Set([name]))
  return ctx.forwardHeaders
}

/** The value of a request header (first one, case-insensitive), or null. */
export function requestHeader(rawHeaders: readonly string[], name: string): string | null {
  for (let i = 0; i < rawHeaders.length - 1; i += 2) {
    if (rawHeaders[i]?.toLowerCase() === name) return rawHeaders[i + 1] ?? null
  }
  return null
}
