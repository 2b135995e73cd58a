import { createHash, timingSafeEqual } from 'node:crypto'
import { refuse } from '@aegis/guard'
import type { Stage, SyncStage } from '../pipeline.js'

/** Agent tokens: `aegis_` and 43 base64url characters (256 random bits). */
const TOKEN_SHAPE = /^aegis_[A-Za-z0-9_-]{43}$/

/**
 * Who is calling. A token that is sent is always verified — an invalid one is refused, never
 * ignored — and with `requireAgentAuth` a request without one is refused too. Tokens are looked up
 * by their SHA-256 and compared in constant time; the token itself is never logged or stored.
 */
export function identity(requireAgentAuth: boolean): SyncStage {
  return (ctx) => {
    const token = ctx.req.agentToken
    if (token === null || token === '') {
      if (requireAgentAuth) return refuse('agent_auth_required', 'Send your agent token in X-Aegis-Agent')
      return undefined
    }
    if (!TOKEN_SHAPE.test(token)) return refuse('agent_auth_invalid', 'The agent token is not recognised')
    const hash = createHash('sha256').update(token).digest()
    const agent = ctx.snapshot.agentsByHash.get(hash.toString('hex'))
    if (agent === undefined || !timingSafeEqual(agent.tokenHash, hash)) {
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
