import { type RateLimiter, rateLimited } from '@aegis/guard'
import type { Stage } from '../pipeline.js'

/**
 * The credential's rate limit, checked and spent in one synchronous step (no other request can
 * pass on the same unit while this one waits later); a request refused after this stage gets its
 * unit back.
 */
export function credentialRate(limiter: RateLimiter): Stage {
  return (ctx) => {
    const credential = ctx.credential
    if (credential === null || credential.rate === null) return undefined
    const budget = limiter.reserve(`credential:${credential.id}`, credential.rate, ctx.now)
    if (!budget.ok) {
      ctx.rateLimit = 'credential'
      return rateLimited(
        `Credential "${credential.name}" is limited to ${credential.rate.text}`,
        budget.retryAfterMs,
        credential.rate.text,
      )
    }
    ctx.refunds.push(budget.refund)
    return undefined
  }
}
