import { describe, expect, it } from 'vitest'
import { ApiError, type Query } from '../src/api/client.js'
import type { LedgerEntry, RequestsPage } from '../src/api/types.js'
import { FeedController } from '../src/feed/controller.js'
import { EMPTY_FILTER } from '../src/feed/filter.js'
import { type FeedAction, type FeedState, feedReducer, initialFeedState } from '../src/feed/state.js'
import { entry } from './fixtures.js'

const now = new Date('2026-12-06T07:00:00.000Z')

/** A fake `/api/requests` over a list of entries, honouring service, after and limit like the server. */
function harness(initial: LedgerEntry[]) {
  const ledger = [...initial]
  const queries: Query[] = []
  let fail: ApiError | null = null
  let gate: Promise<void> | null = null
  const requests = async (query: Query): Promise<RequestsPage> => {
    queries.push(query)
    if (gate) await gate
    if (fail) throw fail
    let items = ledger.filter((e) => !query.service || e.service === query.service)
    const limit = Number(query.limit ?? 100)
    if (query.after !== undefined) items = items.filter((e) => e.id > Number(query.after))
    else items = items.reverse()
    return { items: items.slice(0, limit), hasMore: items.length > limit }
  }
  let state: FeedState = initialFeedState
  const errors: (ApiError | null)[] = []
  const controller = new FeedController({
    requests,
    dispatch: (a: FeedAction) => {
      state = feedReducer(state, a)
    },
    onError: (e) => errors.push(e),
    now: () => now,
  })
  return {
    controller,
    ledger,
    queries,
    errors,
    rows: () => state.rows.map((r) => r.id),
    failWith: (e: ApiError | null) => {
      fail = e
    },
    hold: () => {
      let release = () => {}
      gate = new Promise<void>((r) => {
        release = r
      })
      return () => {
        gate = null
        release()
      }
    },
  }
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => entry(from + i))

describe('FeedController', () => {
  it('loads the newest 500 for the filter, then catches up after the highest id it saw', async () => {
    const h = harness(range(1, 3))
    await h.controller.load({ ...EMPTY_FILTER, service: 'github', since: '1h' })
    expect(h.queries[0]).toEqual({
      service: 'github',
      agent: undefined,
      decision: undefined,
      code: undefined,
      since: '2026-12-06T06:00:00.000Z',
      limit: 500,
    })
    expect(h.rows()).toEqual([3, 2, 1])
    h.ledger.push(...range(4, 6))
    await h.controller.catchUp()
    expect(h.queries[1]).toMatchObject({ service: 'github', after: 3, limit: 500 })
    expect(h.rows()).toEqual([6, 5, 4, 3, 2, 1])
    expect(h.controller.lastId).toBe(6)
  })

  it('live entries move the cursor, so the next catch-up starts after them', async () => {
    const h = harness(range(1, 2))
    await h.controller.load(EMPTY_FILTER)
    h.controller.receive([entry(9)])
    await h.controller.catchUp()
    expect(h.queries.at(-1)).toMatchObject({ after: 9 })
  })

  it('a catch-up waits for a load in flight and starts after its answer', async () => {
    const h = harness(range(1, 5))
    const release = h.hold()
    const loading = h.controller.load(EMPTY_FILTER)
    const catching = h.controller.catchUp()
    await Promise.resolve()
    expect(h.queries).toHaveLength(1) // only the load so far
    release()
    await loading
    await catching
    expect(h.queries[1]).toMatchObject({ after: 5 })
  })

  it('a gap too long to page through reloads the newest instead', async () => {
    const h = harness(range(1, 1))
    await h.controller.load(EMPTY_FILTER)
    h.ledger.push(...range(2, 3000))
    await h.controller.catchUp()
    // 4 pages of 500 forward, then one newest-first load.
    expect(h.queries.slice(1).map((q) => q.after)).toEqual([1, 501, 1001, 1501, undefined])
    expect(h.rows()[0]).toBe(3000)
    expect(h.rows()).toHaveLength(500)
  })

  it('the answer to an older filter is dropped', async () => {
    const h = harness([entry(1, { service: 'stripe' }), entry(2)])
    const release = h.hold()
    const first = h.controller.load({ ...EMPTY_FILTER, service: 'stripe' })
    release()
    const second = h.controller.load(EMPTY_FILTER)
    await Promise.all([first, second])
    expect(h.rows()).toEqual([2, 1])
  })

  it('a failed load reports the API error; the next load clears it', async () => {
    const h = harness(range(1, 2))
    h.failWith(new ApiError(403, 'forbidden', 'viewer may not ledger:read'))
    await h.controller.load(EMPTY_FILTER)
    expect(h.errors.at(-1)).toMatchObject({ code: 'forbidden' })
    h.failWith(null)
    await h.controller.load(EMPTY_FILTER)
    expect(h.errors.at(-1)).toBeNull()
    expect(h.rows()).toEqual([2, 1])
  })

  it('a failed catch-up rejects (the socket then retries)', async () => {
    const h = harness(range(1, 2))
    await h.controller.load(EMPTY_FILTER)
    h.failWith(new ApiError(503, 'unavailable', 'The ledger is not readable'))
    await expect(h.controller.catchUp()).rejects.toMatchObject({ status: 503 })
  })
})
