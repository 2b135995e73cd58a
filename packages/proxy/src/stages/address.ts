import type { RequestContext } from '../context.js'
import type { Stage } from '../pipeline.js'
import type { StageResult } from '../types.js'
import type { AddressResolver, ResolveResult } from '../upstream/resolve.js'

/**
 * Resolves the target once and refuses private, loopback, link-local and metadata addresses. The
 * connection later dials exactly the address checked here (no second lookup). A pinned or cached
 * name is answered synchronously (no promise, no microtask hop); only a lookup is waited for.
 */
export function address(resolver: AddressResolver): Stage {
  return (ctx) => {
    if (ctx.target === null) return undefined
    const result = resolver.resolve(ctx.target.host, ctx.target.port)
    return result instanceof Promise ? result.then((r) => settle(ctx, r)) : settle(ctx, result)
  }
}

function settle(ctx: RequestContext, result: ResolveResult): StageResult {
  if (!result.ok) return result.refusal
  ctx.dial = result.dial
  return undefined
}
