import type { Stage } from '../pipeline.js'
import type { AddressResolver } from '../upstream/resolve.js'

/**
 * Resolves the target once and refuses private, loopback, link-local and metadata addresses. The
 * connection later dials exactly the address checked here (no second lookup).
 */
export function address(resolver: AddressResolver): Stage {
  return async (ctx) => {
    if (ctx.target === null) return undefined
    const result = await resolver.resolve(ctx.target.host, ctx.target.port)
    if (!result.ok) return result.refusal
    ctx.dial = result.dial
    return undefined
  }
}
