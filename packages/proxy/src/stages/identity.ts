import { timingSafeEqual } from 'node:crypto'
import { agentTokenKey, isAgentTokenShape, refuse } from '@aegis/guard'
import type { Stage, SyncStage } from '../pipeline.js'

/**
 * Who is calling. A token that is sent is always verified — an invalid one is refused, never
 * ignored — and with `requireAgentAuth` a request without one is refused too. Tokens are looked up
 * by their SHA-256 and compared in constant time; the token itself is never logged or stored.
 */
export function identity(requireAgentAuth: boolean): SyncStage {
  return (ctx) => {
    const token = ctx.req.agentToken
    if (token === null || token === '') {
      if (requireAgentAuth)
        return refuse(
          'agent_auth_required',
          'Send your agent token in X-Aegis-Agent, or as the API key (Authorization: Bearer or x-api-key)',
        )
      return undefined
    }
    if (!isAgentTokenShape(token)) return refuse('agent_auth_invalid', 'The agent token is not recognised')
    const key = agentTokenKey(token)
    const agent = ctx.snapshot.agentsByHash.get(key)
    if (agent === undefined || !timingSafeEqual(agent.tokenHash, Buffer.from(key, 'hex'))) {
      const refused = ctx.snapshot.refusedAgentsByHash.get(key)
      if (refused !== undefined) {
        ctx.refusedAgent = refused.name
        return refuse(
          'agent_auth_invalid',
          `The agent token belongs to agent "${refused.name}", whose stored record the gate refuses: it ${refused.reason}. An operator must repair it (aegis doctor)`,
        )
      }
      return refuse('agent_auth_invalid', 'The agent token is not recognised')
    }
    ctx.agent = agent
    return undefined
  }
}

/** An authenticated agent may use only the credentials it was granted. */
export const grant: Stage = (ctx) => {
  const { agent, credential } = ctx
  if (agent === null || credential === null) return undefined
  if (!agent.grants.has(credential.id)) {
    return refuse('grant_denied', `Agent "${agent.name}" is not granted credential "${credential.name}"`)
  }
  return undefined
}
