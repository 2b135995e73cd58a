import { type RateLimiter, refuse } from '@aegis/guard'
import type { Stage } from '../pipeline.js'

/**
 * Checks the credential's rate limit. Budget is not spent here: the check is queued as a commit
 * that runs only after every refusing stage has passed, so a refused request costs nothing.
 */
export function credentialRate(limiter: RateLimiter): Stage {
  return (ctx) => {
    const credential = ctx.credential
    if (credential === null || credential.rate === null) return undefined
    const verdict = limiter.check(`credential:${credential.id}`, credential.rate, ctx.now)
    if (!verdict.ok) {
      const retryAfter = Math.max(1, Math.ceil(verdict.retryAfterMs / 1000))
      return refuse('rate_limited', `Credential "${credential.name}" is limited to ${credential.rate.text}`, {
        retryAfter,
        limit: credential.rate.text,
      })
    }
    ctx.commits.push(verdict.commit)
    return undefined
  }
}
