/** Agents: the `agent list --json` items, and `agent revoke`, `agent set-rate-limit`, `agent remove`. */
import { agentJson } from '../../lib/agent-view.js'
import { ApiError } from '../respond.js'
import { cliPermission } from './permission.js'
import type { Route } from './route.js'

const NAMED = /^\/api\/agents\/(?<name>[^/]+)/

export const listAgents: Route = {
  method: 'GET',
  pattern: /^\/api\/agents$/,
  permission: cliPermission('agent:list'),
  async handle({ deps }) {
    return { items: await deps.vault.use(async (vault) => (await vault.listAgents()).map(agentJson)) }
  },
}

export const revokeGrant: Route = {
  method: 'POST',
  pattern: new RegExp(`${NAMED.source}/revoke$`),
  permission: cliPermission('agent:revoke'),
  async handle({ deps, params }, body) {
    const credential = body.credential
    if (typeof credential !== 'string' || credential === '') {
      throw new ApiError(400, 'invalid_request', 'credential: expected a credential name')
    }
    const changed = await deps.vault.use((vault) => vault.revoke(params.name ?? '', credential))
    return { changed }
  },
}

export const setRateLimit: Route = {
  method: 'PUT',
  pattern: new RegExp(`${NAMED.source}/rate-limit$`),
  permission: cliPermission('agent:set-rate-limit'),
  async handle({ deps, params }, body) {
    const rateLimit = body.rateLimit
    if (rateLimit !== null && typeof rateLimit !== 'string') {
      throw new ApiError(400, 'invalid_request', 'rateLimit: expected a limit such as "100/min", or null')
    }
    const info = await deps.vault.use((vault) => vault.setAgentLimits(params.name ?? '', { rateLimit }))
    return agentJson(info)
  },
}

export const removeAgent: Route = {
  method: 'DELETE',
  pattern: new RegExp(`${NAMED.source}$`),
  permission: cliPermission('agent:remove'),
  async handle({ deps, params }) {
    await deps.vault.use((vault) => vault.removeAgent(params.name ?? ''))
    return undefined
  },
}
