import type { LedgerEntry } from '../api/types.js'
import { EMPTY_FILTER, type FeedFilter, matchesFilter, sinceCutoff } from './filter.js'

/** At most this many rows in the DOM (and this many held back while paused). */
export const FEED_CAP = 500

export interface FeedState {
  /** Shown rows, newest (highest id) first, at most FEED_CAP. */
  rows: LedgerEntry[]
  /** New entries that arrived while paused, newest first, at most FEED_CAP. */
  pending: LedgerEntry[]
  /** How many new entries arrived while paused ("N new"); counts those past the cap too. */
  newCount: number
  /** Ids at or below this were held back while paused and dropped at the cap: not new again. */
  pendingFloor: number
  paused: boolean
  /** The highest ledger id seen: the `after=` cursor of a reconnect's catch-up. */
  lastId: number
  filter: FeedFilter
  /** The filter's time bound, fixed when the filter was set (the server got the same one). */
  cutoff: Date | null
  /** Names the latest filter change: a fetch started under an older one is ignored. */
  generation: number
}

export type FeedAction =
  | { type: 'filter'; filter: FeedFilter; now: Date; generation: number }
  | { type: 'loaded'; generation: number; items: readonly LedgerEntry[] }
  | { type: 'receive'; entries: readonly LedgerEntry[] }
  | { type: 'pause' }
  | { type: 'resume' }

export const initialFeedState: FeedState = {
  rows: [],
  pending: [],
  newCount: 0,
  pendingFloor: 0,
  paused: false,
  lastId: 0,
  filter: EMPTY_FILTER,
  cutoff: null,
  generation: 0,
}

/** A finished entry (status or duration known) is never replaced by an older in-flight copy of it. */
function isComplete(e: LedgerEntry): boolean {
  return e.status !== null || e.durationMs !== null
}

/** The newer view of one ledger id: a catch-up page may carry a copy older than a live completion. */
export function mergeEntry(existing: LedgerEntry | undefined, incoming: LedgerEntry): LedgerEntry {
  if (existing && isComplete(existing) && !isComplete(incoming)) return existing
  return incoming
}

const newestFirst = (a: LedgerEntry, b: LedgerEntry): number => b.id - a.id

function byId(entries: readonly LedgerEntry[]): Map<number, LedgerEntry> {
  return new Map(entries.map((e) => [e.id, e]))
}

function maxId(entries: readonly LedgerEntry[], start: number): number {
  let max = start
  for (const e of entries) if (e.id > max) max = e.id
  return max
}

/** Rows upserted by id, newest first, cut to the cap (the oldest fall off). */
function upsertRows(
  rows: readonly LedgerEntry[],
  entries: readonly LedgerEntry[],
  state: FeedState,
): LedgerEntry[] {
  const map = byId(rows)
  for (const e of entries) {
    const merged = mergeEntry(map.get(e.id), e)
    if (matchesFilter(merged, state.filter, state.cutoff)) map.set(e.id, merged)
    else map.delete(e.id)
  }
  return [...map.values()].sort(newestFirst).slice(0, FEED_CAP)
}

/**
 * Live and catch-up entries. An id already shown is updated in place (even while paused: a
 * completion fills in status and duration without moving rows); a new id is shown at once, or held
 * back and counted while paused. Entries that do not match the filter are not shown, and a shown
 * row whose completion no longer matches (e.g. decision=allowed, completed as failed) goes away.
 */
function receive(state: FeedState, entries: readonly LedgerEntry[]): FeedState {
  if (entries.length === 0) return state
  const lastId = maxId(entries, state.lastId)
  if (!state.paused) return { ...state, lastId, rows: upsertRows(state.rows, entries, state) }

  const rows = byId(state.rows)
  const pending = byId(state.pending)
  let newCount = state.newCount
  for (const e of entries) {
    const match = matchesFilter(e, state.filter, state.cutoff)
    const shown = rows.get(e.id)
    if (shown) {
      const merged = mergeEntry(shown, e)
      if (matchesFilter(merged, state.filter, state.cutoff)) rows.set(e.id, merged)
      else rows.delete(e.id)
      continue
    }
    const held = pending.get(e.id)
    if (held) {
      const merged = mergeEntry(held, e)
      if (matchesFilter(merged, state.filter, state.cutoff)) pending.set(e.id, merged)
      else {
        pending.delete(e.id)
        newCount--
      }
      continue
    }
    if (!match || e.id <= state.pendingFloor) continue
    pending.set(e.id, e)
    newCount++
  }
  const sorted = [...pending.values()].sort(newestFirst)
  const dropped = sorted.slice(FEED_CAP)
  return {
    ...state,
    lastId,
    rows: [...rows.values()].sort(newestFirst),
    pending: sorted.slice(0, FEED_CAP),
    newCount,
    pendingFloor: maxId(dropped, state.pendingFloor),
  }
}

export function feedReducer(state: FeedState, action: FeedAction): FeedState {
  switch (action.type) {
    case 'filter':
      // A new question: the shown rows answer the old one. The cursor stays: every matching entry
      // at or below it is in the refetch that follows (newest first, up to the cap).
      return {
        ...state,
        filter: action.filter,
        cutoff: sinceCutoff(action.filter.since, action.now),
        rows: [],
        pending: [],
        newCount: 0,
        pendingFloor: 0,
        generation: action.generation,
      }
    case 'loaded':
      if (action.generation !== state.generation) return state
      // The answer to the user's own question is shown even while paused.
      return {
        ...state,
        lastId: maxId(action.items, state.lastId),
        rows: upsertRows(state.rows, action.items, state),
      }
    case 'receive':
      return receive(state, action.entries)
    case 'pause':
      return state.paused ? state : { ...state, paused: true }
    case 'resume':
      return {
        ...state,
        paused: false,
        rows: upsertRows(state.rows, state.pending, state),
        pending: [],
        newCount: 0,
        pendingFloor: 0,
      }
  }
}
