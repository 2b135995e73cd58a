/**
 * The Request Feed's reads: pages of request entries, and one entry by id. Both are views
 * (`ledger:read`): an actor without `ledger:export` reads only the newest `LEDGER_VIEW_ROWS` entries
 * of a filter (@aegis/access decides the bound), so it cannot page its way through the whole ledger.
 */
import { type Actor, LEDGER_VIEW_ROWS, ledgerViewRows } from '@aegis/access'
import type { LedgerFilter, RequestDecision } from '@aegis/ledger'
import type { DashboardDeps } from '../deps.js'
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
  async handle({ query, deps, actor }) {
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
    const matching: LedgerFilter = {
      requests: true,
      ...(q.has('service') && { service: q.get('service') }),
      ...(q.has('agent') && { agent: q.get('agent') }),
      ...(decision !== undefined && { decision: decision as RequestDecision }),
      ...(q.has('code') && { code: q.get('code') }),
      ...(since !== undefined && { since: sinceOf(since, Date.now()) }),
    }
    const floor = await viewFloor(deps, actor, matching)
    // Forward paging starts inside the view at the earliest (a cursor of 0 would be the ledger's start).
    const from = after === undefined ? undefined : Math.max(after, floor - 1)
    const filter: LedgerFilter = {
      ...matching,
      limit: limit + 1,
      order: after === undefined ? 'desc' : 'asc',
      ...(from !== undefined && { afterId: from }),
      ...(before !== undefined && { beforeId: before }),
    }
    const rows = (await deps.ledger.query(filter)).filter((e) => e.id >= floor)
    return { items: rows.slice(0, limit), hasMore: rows.length > limit }
  },
}

/**
 * The oldest id `actor` may read among the entries `matching` selects: 0 (all) with ledger:export,
 * or while fewer entries match than the view holds; else the id of the last entry of the view.
 */
async function viewFloor(deps: DashboardDeps, actor: Actor, matching: LedgerFilter): Promise<number> {
  const rows = ledgerViewRows(actor)
  if (rows === null) return 0
  // `afterId: 0` orders by id, the order pages are cut in.
  const newest = await deps.ledger.query({ ...matching, afterId: 0, order: 'desc', limit: rows })
  return newest.length < rows ? 0 : (newest.at(-1)?.id ?? 0)
}

/** `GET /api/requests/:id`: one request entry (system entries are not requests: 404). */
export const getRequest: Route = {
  method: 'GET',
  pattern: /^\/api\/requests\/(?<id>\d{1,16})$/,
  permission: 'ledger:read',
  async handle({ params, deps, actor }) {
    const [entry] = await deps.ledger.entries([Number(params.id)])
    if (entry === undefined || entry.decision === 'system') {
      throw new ApiError(404, 'not_found', `No request ${params.id} in the ledger`)
    }
    // One entry by id, id after id, is the whole ledger too: a view reaches the newest requests only.
    if (entry.id < (await viewFloor(deps, actor, { requests: true }))) {
      throw new ApiError(
        403,
        'forbidden',
        `Request ${params.id} is older than the newest ${LEDGER_VIEW_ROWS} a view shows: reading it needs ledger:export`,
      )
    }
    return entry
  },
}
