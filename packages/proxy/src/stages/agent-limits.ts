import { type RateLimiter, rateLimited } from '@aegis/guard'
import type { InFlight } from '../in-flight.js'
import type { Stage } from '../pipeline.js'

/**
 * Per-agent limits: requests in flight, then the agent's rate. Both are taken here, in one
 * synchronous step with their check, so a burst of requests that all wait later (DNS, body) cannot
 * pass on the same slot or unit. The slot is given back when the request completes or is refused;
 * the rate unit only if it is refused.
 */
export function agentLimits(limiter: RateLimiter, inFlight: InFlight, defaultMaxInFlight: number): Stage {
  return (ctx) => {
    const agent = ctx.agent
    if (agent === null) return undefined
    const cap = agent.maxInFlight ?? defaultMaxInFlight
    if (inFlight.count(agent.id) >= cap) {
      ctx.rateLimit = 'agent'
      // A slot frees when any request of this agent ends; 1 s is the shortest Retry-After.
      return rateLimited(
        `Agent "${agent.name}" already has ${cap} requests in flight`,
        1000,
        `${cap} in flight`,
      )
    }
    if (agent.rate !== null) {
      const budget = limiter.reserve(`agent:${agent.id}`, agent.rate, ctx.now)
      if (!budget.ok) {
        ctx.rateLimit = 'agent'
        return rateLimited(
          `Agent "${agent.name}" is limited to ${agent.rate.text}`,
          budget.retryAfterMs,
          agent.rate.text,
        )
      }
      ctx.refunds.push(budget.refund)
    }
    inFlight.acquire(agent.id)
    ctx.releases.push(() => inFlight.release(agent.id))
    return undefined
  }
}
