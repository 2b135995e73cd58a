/** The Request Feed's reads: pages of request entries, and one entry by id. */
import type { LedgerFilter, RequestDecision } from '@aegis/ledger'
import { ApiError } from '../respond.js'
import { intOf, queryOf, sinceOf } from './query.js'
import type { Route } from './route.js'

const DECISIONS: readonly RequestDecision[] = ['allowed', 'blocked', 'failed']
const PARAMS = ['limit', 'before', 'after', 'service', 'agent', 'decision', 'code', 'since'] as const

/** `GET /api/requests`: newest first, or with `after` oldest first (a reconnecting client pages forward). */
export const listRequests: Route = {
  method: 'GET',
  pattern: /^\/api\/requests$/,
  permission: 'ledger:read',
  async handle({ query, deps }) {
    const q = queryOf(query, PARAMS)
    const limit = intOf('limit', q.get('limit'), 1, 500) ?? 100
    const after = intOf('after', q.get('after'), 0, Number.MAX_SAFE_INTEGER)
    const before = intOf('before', q.get('before'), 0, Number.MAX_SAFE_INTEGER)
    if (after !== undefined && before !== undefined) {
      throw new ApiError(400, 'invalid_request', 'after and before cannot be combined')
    }
    const decision = q.get('decision')
    if (decision !== undefined && !DECISIONS.includes(decision as RequestDecision)) {
      throw new ApiError(400, 'invalid_request', 'decision: expected allowed, blocked or failed')
    }
    const since = q.get('since')
    const filter: LedgerFilter = {
      requests: true,
      limit: limit + 1,
      order: after === undefined ? 'desc' : 'asc',
      ...(after !== undefined && { afterId: after }),
      ...(before !== undefined && { beforeId: before }),
      ...(q.has('service') && { service: q.get('service') }),
      ...(q.has('agent') && { agent: q.get('agent') }),
      ...(decision !== undefined && { decision: decision as RequestDecision }),
      ...(q.has('code') && { code: q.get('code') }),
      ...(since !== undefined && { since: sinceOf(since, Date.now()) }),
    }
    const rows = await deps.ledger.query(filter)
    return { items: rows.slice(0, limit), hasMore: rows.length > limit }
  },
}

/** `GET /api/requests/:id`: one request entry (system entries are not requests: 404). */
export const getRequest: Route = {
  method: 'GET',
  pattern: /^\/api\/requests\/(?<id>\d{1,16})$/,
  permission: 'ledger:read',
  async handle({ params, deps }) {
    const [entry] = await deps.ledger.entries([Number(params.id)])
    if (entry === undefined || entry.decision === 'system') {
      throw new ApiError(404, 'not_found', `No request ${params.id} in the ledger`)
    }
    return entry
  },
}
