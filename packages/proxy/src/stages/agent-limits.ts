import { type RateLimiter, refuse } from '@aegis/guard'
import type { InFlight } from '../in-flight.js'
import type { Stage } from '../pipeline.js'

/**
 * Per-agent limits: requests in flight, then the agent's rate. Like every limit, budget is only
 * reserved here and spent after the last refusing stage passed; the in-flight slot is taken then
 * too and given back when the request completes.
 */
export function agentLimits(limiter: RateLimiter, inFlight: InFlight, defaultMaxInFlight: number): Stage {
  return (ctx) => {
    const agent = ctx.agent
    if (agent === null) return undefined
    const cap = agent.maxInFlight ?? defaultMaxInFlight
    if (inFlight.count(agent.id) >= cap) {
      return refuse('rate_limited', `Agent "${agent.name}" already has ${cap} requests in flight`, {
        retryAfter: 1,
        limit: `${cap} in flight`,
      })
    }
    if (agent.rate !== null) {
      const verdict = limiter.check(`agent:${agent.id}`, agent.rate, ctx.now)
      if (!verdict.ok) {
        const retryAfter = Math.max(1, Math.ceil(verdict.retryAfterMs / 1000))
        return refuse('rate_limited', `Agent "${agent.name}" is limited to ${agent.rate.text}`, {
          retryAfter,
          limit: agent.rate.text,
        })
      }
      ctx.commits.push(verdict.commit)
    }
    ctx.commits.push(() => {
      inFlight.acquire(agent.id)
      ctx.releases.push(() => inFlight.release(agent.id))
    })
    return undefined
  }
}
