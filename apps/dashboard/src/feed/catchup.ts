import type { LedgerEntry, RequestsPage } from '../api/types.js'

export interface CatchUpResult {
  /** Entries with ids above the cursor, oldest first. */
  entries: LedgerEntry[]
  /**
   * False when paging stopped before the end (too many pages, or a page that did not advance):
   * the caller reloads the newest entries instead, since the feed shows only the newest 500 anyway.
   */
  complete: boolean
}

/**
 * Pages forward from `afterId` (`/api/requests?after=<id>` answers oldest first) until the server
 * says there is no more. Bounded: a client back from a long sleep does not page through a day of
 * traffic it could never show.
 */
export async function catchUp(
  fetchPage: (afterId: number, limit: number) => Promise<RequestsPage>,
  afterId: number,
  { maxPages = 4, limit = 500 }: { maxPages?: number; limit?: number } = {},
): Promise<CatchUpResult> {
  const entries: LedgerEntry[] = []
  let cursor = afterId
  for (let page = 0; page < maxPages; page++) {
    const { items, hasMore } = await fetchPage(cursor, limit)
    entries.push(...items)
    if (!hasMore) return { entries, complete: true }
    let next = cursor
    for (const e of items) if (e.id > next) next = e.id
    // A page that does not move the cursor would repeat forever.
    if (next === cursor) return { entries, complete: false }
    cursor = next
  }
  return { entries, complete: false }
}
