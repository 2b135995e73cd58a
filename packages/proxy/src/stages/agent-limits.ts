import { rateLimited } from '@aegis/guard'
import type { InFlight } from '../in-flight.js'
import type { Stage } from '../pipeline.js'
import type { Budgets } from './budget.js'

/**
 * Per-agent limits: requests in flight, then the agent's rate. The in-flight slot is taken with
 * its check, before the rate is asked (which may wait on a shared store), so a burst cannot pass
 * on the same slot; it is given back when the request completes or is refused. The rate unit is
 * given back only if the request is refused.
 */
export function agentLimits(budgets: Budgets, inFlight: InFlight, defaultMaxInFlight: number): Stage {
  return (ctx) => {
    const agent = ctx.agent
    if (agent === null) return undefined
    const cap = agent.maxInFlight ?? defaultMaxInFlight
    if (inFlight.count(agent.id) >= cap) {
      ctx.rateLimit = 'agent'
      // A slot frees when any request of this agent ends; 1 s is the shortest Retry-After.
      return rateLimited(
        `Agent "${agent.name}" already has ${cap} ${cap === 1 ? 'request' : 'requests'} in flight`,
        1000,
        `${cap} in flight`,
      )
    }
    inFlight.acquire(agent.id)
    ctx.releases.push(() => inFlight.release(agent.id))
    if (agent.rate === null) return undefined
    return budgets.take(
      ctx,
      'agent',
      `agent:${agent.id}`,
      agent.rate,
      `Agent "${agent.name}" is limited to ${agent.rate.text}`,
    )
  }
}
