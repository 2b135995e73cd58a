import { type RateLimiter, refuse } from '@aegis/guard'
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
      const retryAfter = Math.max(1, Math.ceil(budget.retryAfterMs / 1000))
      return refuse('rate_limited', `Credential "${credential.name}" is limited to ${credential.rate.text}`, {
        retryAfter,
        limit: credential.rate.text,
      })
    }
    ctx.refunds.push(budget.refund)
    return undefined
  }
}
