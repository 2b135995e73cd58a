import { describe, expect, it } from 'vitest'
import type { RequestsPage } from '../src/api/types.js'
import { catchUp } from '../src/feed/catchup.js'
import { entry } from './fixtures.js'

/** A fake `/api/requests?after=` over ids 1..total: ids > after, oldest first, `limit` per page. */
function server(total: number) {
  const calls: number[] = []
  const fetchPage = async (after: number, limit: number): Promise<RequestsPage> => {
    calls.push(after)
    const items = []
    for (let id = after + 1; id <= total && items.length < limit; id++) items.push(entry(id))
    const last = items.at(-1)?.id ?? after
    return { items, hasMore: last < total }
  }
  return { calls, fetchPage }
}

describe('catchUp', () => {
  it('pages forward from the cursor until hasMore is false', async () => {
    const s = server(25)
    const result = await catchUp(s.fetchPage, 3, { limit: 10 })
    expect(result.complete).toBe(true)
    expect(result.entries.map((e) => e.id)).toEqual(Array.from({ length: 22 }, (_, i) => i + 4))
    expect(s.calls).toEqual([3, 13, 23])
  })

  it('one empty page when nothing is new', async () => {
    const s = server(5)
    expect(await catchUp(s.fetchPage, 5)).toEqual({ entries: [], complete: true })
    expect(s.calls).toEqual([5])
  })

  it('stops after maxPages and says so (the caller reloads the newest instead)', async () => {
    const s = server(10_000)
    const result = await catchUp(s.fetchPage, 0, { limit: 100, maxPages: 3 })
    expect(result.complete).toBe(false)
    expect(s.calls).toEqual([0, 100, 200])
  })

  it('stops on a page that claims more but does not advance the cursor', async () => {
    let calls = 0
    const result = await catchUp(async () => {
      calls++
      return { items: [], hasMore: true }
    }, 7)
    expect(result).toEqual({ entries: [], complete: false })
    expect(calls).toBe(1)
  })

  it('passes a failing page on to the caller', async () => {
    await expect(
      catchUp(async () => {
        throw new Error('boom')
      }, 0),
    ).rejects.toThrow('boom')
  })
})
