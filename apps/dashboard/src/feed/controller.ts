import { type ApiError, type Query, toApiError } from '../api/client.js'
import type { LedgerEntry, RequestsPage } from '../api/types.js'
import { catchUp } from './catchup.js'
import { EMPTY_FILTER, type FeedFilter, filterQuery } from './filter.js'
import { FEED_CAP, type FeedAction } from './state.js'

export interface FeedControllerDeps {
  requests: (query: Query) => Promise<RequestsPage>
  dispatch: (action: FeedAction) => void
  onError: (error: ApiError | null) => void
  now?: () => Date
}

/**
 * Owns the feed's question (the filter) and its cursor (the highest ledger id seen from the
 * server), and turns them into API calls: a filter change loads the newest matches; a (re)connect
 * catches up from the cursor, or reloads when the gap is too long to page through. What to show is
 * the reducer's business (state.ts); this class only feeds it actions.
 */
export class FeedController {
  private filter: FeedFilter = EMPTY_FILTER
  private generation = 0
  private cursor = 0
  private loading: Promise<void> = Promise.resolve()

  constructor(private readonly deps: FeedControllerDeps) {}

  private now(): Date {
    return this.deps.now?.() ?? new Date()
  }

  private advance(entries: readonly LedgerEntry[]): void {
    for (const e of entries) if (e.id > this.cursor) this.cursor = e.id
  }

  /** The id a catch-up starts after. */
  get lastId(): number {
    return this.cursor
  }

  /** Asks a new question: clears the rows and loads the newest FEED_CAP matches. */
  load(filter: FeedFilter): Promise<void> {
    const generation = ++this.generation
    const now = this.now()
    this.filter = filter
    this.deps.dispatch({ type: 'filter', filter, now, generation })
    this.deps.onError(null)
    this.loading = this.deps.requests({ ...filterQuery(filter, now), limit: FEED_CAP }).then(
      (page) => {
        if (generation !== this.generation) return
        this.advance(page.items)
        this.deps.dispatch({ type: 'loaded', generation, items: page.items })
      },
      (err: unknown) => {
        if (generation === this.generation) this.deps.onError(toApiError(err))
      },
    )
    return this.loading
  }

  /** Live entries from the socket. */
  receive(entries: readonly LedgerEntry[]): void {
    this.advance(entries)
    this.deps.dispatch({ type: 'receive', entries })
  }

  /**
   * Run by the socket on every (re)connect, before live messages are applied: waits for a load in
   * flight (its answer moves the cursor), then pages `after=<cursor>` under the current filter.
   * Rejects when the API fails, so the socket retries later.
   */
  async catchUp(): Promise<void> {
    await this.loading
    const generation = this.generation
    const query = filterQuery(this.filter, this.now())
    const result = await catchUp(
      (after, limit) => this.deps.requests({ ...query, after, limit }),
      this.cursor,
    )
    // The filter changed meanwhile: the load of the new one answers for this gap.
    if (generation !== this.generation) return
    if (result.complete) this.receive(result.entries)
    else await this.load(this.filter)
  }
}
