import { describe, expect, it } from 'vitest'
import { EMPTY_FILTER, type FeedFilter } from '../src/feed/filter.js'
import {
  FEED_CAP,
  type FeedAction,
  type FeedState,
  feedReducer,
  initialFeedState,
} from '../src/feed/state.js'
import { entry, inflight } from './fixtures.js'

const now = new Date(Date.UTC(2026, 11, 6, 7, 5, 0))

function run(...actions: FeedAction[]): FeedState {
  return actions.reduce(feedReducer, initialFeedState)
}
const setFilter = (filter: Partial<FeedFilter>, generation = 1): FeedAction => ({
  type: 'filter',
  filter: { ...EMPTY_FILTER, ...filter },
  now,
  generation,
})
const ids = (s: FeedState) => s.rows.map((r) => r.id)

describe('feed state: upsert by id', () => {
  it('keeps rows newest first and one row per id', () => {
    const s = run(
      { type: 'receive', entries: [entry(2), entry(1), entry(3)] },
      { type: 'receive', entries: [entry(2)] },
    )
    expect(ids(s)).toEqual([3, 2, 1])
    expect(s.lastId).toBe(3)
  })

  it('replaces an in-flight row with its completion, in place', () => {
    const s = run(
      { type: 'receive', entries: [inflight(1), entry(2)] },
      {
        type: 'receive',
        entries: [entry(1, { status: 502, durationMs: 900, decision: 'failed', code: 'upstream_error' })],
      },
    )
    expect(ids(s)).toEqual([2, 1])
    expect(s.rows[1]).toMatchObject({ id: 1, status: 502, decision: 'failed' })
  })

  it('does not let an older in-flight copy (a catch-up page) undo a completion', () => {
    const s = run(
      { type: 'receive', entries: [entry(1, { status: 201 })] },
      { type: 'receive', entries: [inflight(1)] },
    )
    expect(s.rows[0]?.status).toBe(201)
  })

  it(`shows at most ${FEED_CAP} rows, dropping the oldest`, () => {
    const many = Array.from({ length: FEED_CAP + 37 }, (_, i) => entry(i + 1))
    const s = run(
      { type: 'receive', entries: many.slice(0, 300) },
      { type: 'receive', entries: many.slice(300) },
    )
    expect(s.rows).toHaveLength(FEED_CAP)
    expect(s.rows[0]?.id).toBe(FEED_CAP + 37)
    expect(s.rows.at(-1)?.id).toBe(38)
    expect(s.lastId).toBe(FEED_CAP + 37)
  })

  it('ignores system entries', () => {
    const s = run({
      type: 'receive',
      entries: [entry(1, { decision: 'system', channel: 'system', event: 'vault_unsealed' })],
    })
    expect(s.rows).toEqual([])
  })
})

describe('feed state: pause and "N new"', () => {
  it('holds new entries back while paused and counts them; resume shows them', () => {
    let s = run({ type: 'receive', entries: [entry(1)] }, { type: 'pause' })
    s = feedReducer(s, { type: 'receive', entries: [entry(2), entry(3)] })
    expect(ids(s)).toEqual([1])
    expect(s.newCount).toBe(2)
    s = feedReducer(s, { type: 'receive', entries: [entry(3)] }) // a completion is not a new request
    expect(s.newCount).toBe(2)
    s = feedReducer(s, { type: 'resume' })
    expect(ids(s)).toEqual([3, 2, 1])
    expect(s.newCount).toBe(0)
    expect(s.pending).toEqual([])
  })

  it('updates rows already shown while paused without counting them as new', () => {
    let s = run({ type: 'receive', entries: [inflight(1)] }, { type: 'pause' })
    s = feedReducer(s, { type: 'receive', entries: [entry(1, { status: 204 })] })
    expect(s.rows[0]?.status).toBe(204)
    expect(s.newCount).toBe(0)
  })

  it('bounds what it holds back, keeps counting, and does not count a dropped id twice', () => {
    let s = run({ type: 'pause' })
    const burst = Array.from({ length: FEED_CAP + 10 }, (_, i) => inflight(i + 1))
    s = feedReducer(s, { type: 'receive', entries: burst })
    expect(s.pending).toHaveLength(FEED_CAP)
    expect(s.newCount).toBe(FEED_CAP + 10)
    // The completion of a dropped (oldest) entry arrives: still FEED_CAP + 10 new.
    s = feedReducer(s, { type: 'receive', entries: [entry(3)] })
    expect(s.newCount).toBe(FEED_CAP + 10)
    s = feedReducer(s, { type: 'resume' })
    expect(s.rows).toHaveLength(FEED_CAP)
    expect(s.rows[0]?.id).toBe(FEED_CAP + 10)
  })
})

describe('feed state: filters', () => {
  it('shows only live entries that match the filter', () => {
    const s = run(setFilter({ decision: 'blocked', agent: 'coder' }), {
      type: 'receive',
      entries: [
        entry(1),
        entry(2, { decision: 'blocked', code: 'domain_not_allowed' }),
        entry(3, { decision: 'blocked', agent: 'other' }),
      ],
    })
    expect(ids(s)).toEqual([2])
    expect(s.lastId).toBe(3) // the cursor moves past what did not match
  })

  it('drops a shown row whose completion no longer matches', () => {
    const s = run(
      setFilter({ decision: 'allowed' }),
      { type: 'receive', entries: [inflight(1)] },
      { type: 'receive', entries: [entry(1, { decision: 'failed', code: 'upstream_timeout' })] },
    )
    expect(s.rows).toEqual([])
  })

  it('a filter change clears the rows; only the answer of the latest change is applied', () => {
    let s = run({ type: 'receive', entries: [entry(1), entry(2)] }, setFilter({ service: 'stripe' }, 1))
    expect(s.rows).toEqual([])
    expect(s.lastId).toBe(2)
    s = feedReducer(s, setFilter({}, 2))
    // The answer to the stripe question would match "any" too, but it is not the answer to it.
    s = feedReducer(s, { type: 'loaded', generation: 1, items: [entry(5, { service: 'stripe' })] })
    expect(s.rows).toEqual([])
    s = feedReducer(s, { type: 'loaded', generation: 2, items: [entry(7), entry(6, { service: 'stripe' })] })
    expect(ids(s)).toEqual([7, 6])
  })

  it('live entries that arrive while the refetch runs are kept when it lands', () => {
    let s = run(setFilter({}, 1), { type: 'receive', entries: [entry(9)] })
    s = feedReducer(s, { type: 'loaded', generation: 1, items: [entry(8), entry(7)] })
    expect(ids(s)).toEqual([9, 8, 7])
  })

  it('the refetch result shows even while paused', () => {
    const s = run({ type: 'pause' }, setFilter({}, 1), { type: 'loaded', generation: 1, items: [entry(1)] })
    expect(ids(s)).toEqual([1])
    expect(s.newCount).toBe(0)
  })

  it('applies the since cutoff to live entries', () => {
    const s = run(setFilter({ since: '15m' }), {
      type: 'receive',
      entries: [
        entry(1, { time: '2026-12-06T06:40:00.000Z' }),
        entry(2, { time: '2026-12-06T07:00:00.000Z' }),
      ],
    })
    expect(ids(s)).toEqual([2])
  })
})
