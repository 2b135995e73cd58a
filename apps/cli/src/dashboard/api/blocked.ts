/** Blocked Requests: refusals grouped by code and agent with counts and last seen. */
import { queryOf, sinceOf } from './query.js'
import type { Route } from './route.js'

// A view of groups, not of rows: 200 groups is more than a screen, and the query stays small.
const MAX_GROUPS = 200

export const blocked: Route = {
  method: 'GET',
  pattern: /^\/api\/blocked$/,
  permission: 'ledger:read',
  async handle({ query, deps }) {
    const q = queryOf(query, ['since'])
    const since = sinceOf(q.get('since') ?? '24h', Date.now())
    const [groups, w] = await Promise.all([
      deps.ledger.blockedGroups({ since, limit: MAX_GROUPS }),
      deps.ledger.window({ since }),
    ])
    const total = w.blocked
    return { since: since.toISOString(), groups, total }
  },
}
