import { useEffect, useId, useReducer, useRef, useState } from 'react'
import type { Api, ApiError } from '../api/client.js'
import type { LedgerEntry } from '../api/types.js'
import { ErrorBox, PageTitle } from '../components/ui.js'
import { FeedController } from '../feed/controller.js'
import { exportCommand } from '../feed/export-command.js'
import { EMPTY_FILTER, type FeedFilter, SINCE_OPTIONS, sameFilter } from '../feed/filter.js'
import { LiveFeed, type LiveStatus, wsUrl } from '../feed/live.js'
import { FEED_CAP, feedReducer, initialFeedState } from '../feed/state.js'
import { FeedDrawer, FeedTable } from './FeedTable.js'

const LIVE_CLASS: Record<LiveStatus, string> = {
  live: 'bg-emerald-400',
  connecting: 'bg-slate-400',
  reconnecting: 'bg-amber-400',
}

function TextFilter({
  label,
  testId,
  value,
  onChange,
}: {
  label: string
  testId: string
  value: string
  onChange: (v: string) => void
}) {
  const id = useId()
  return (
    <label htmlFor={id} className="flex flex-col gap-1 text-xs text-slate-400">
      {label}
      <input
        id={id}
        data-testid={testId}
        className="field w-36"
        value={value}
        spellCheck={false}
        onChange={(e) => onChange(e.target.value)}
      />
    </label>
  )
}

/** Filters, the live indicator, pause/resume with the "N new" counter. */
export function FeedToolbar({
  draft,
  onDraft,
  live,
  paused,
  newCount,
  onPause,
  onResume,
}: {
  draft: FeedFilter
  onDraft: (f: FeedFilter) => void
  live: LiveStatus
  paused: boolean
  newCount: number
  onPause: () => void
  onResume: () => void
}) {
  const decisionId = useId()
  const sinceId = useId()
  const set = (patch: Partial<FeedFilter>) => onDraft({ ...draft, ...patch })
  return (
    <div className="mb-3 flex flex-wrap items-end gap-3">
      <TextFilter
        label="Service"
        testId="filter-service"
        value={draft.service}
        onChange={(service) => set({ service })}
      />
      <TextFilter
        label="Agent"
        testId="filter-agent"
        value={draft.agent}
        onChange={(agent) => set({ agent })}
      />
      <label htmlFor={decisionId} className="flex flex-col gap-1 text-xs text-slate-400">
        Decision
        <select
          id={decisionId}
          data-testid="filter-decision"
          className="field"
          value={draft.decision}
          onChange={(e) => set({ decision: e.target.value as FeedFilter['decision'] })}
        >
          <option value="">any</option>
          <option value="allowed">allowed</option>
          <option value="blocked">blocked</option>
          <option value="failed">failed</option>
        </select>
      </label>
      <TextFilter label="Code" testId="filter-code" value={draft.code} onChange={(code) => set({ code })} />
      <label htmlFor={sinceId} className="flex flex-col gap-1 text-xs text-slate-400">
        Since
        <select
          id={sinceId}
          data-testid="filter-since"
          className="field"
          value={draft.since}
          onChange={(e) => set({ since: e.target.value })}
        >
          <option value="">all time</option>
          {Object.keys(SINCE_OPTIONS).map((k) => (
            <option key={k} value={k}>
              last {k}
            </option>
          ))}
        </select>
      </label>
      <button
        type="button"
        className="btn"
        disabled={sameFilter(draft, EMPTY_FILTER)}
        onClick={() => onDraft(EMPTY_FILTER)}
      >
        Clear
      </button>
      <div className="ml-auto flex items-center gap-3">
        <span className="flex items-center gap-1.5 text-sm text-slate-300" aria-live="polite">
          <span aria-hidden="true" className={`inline-block h-2 w-2 rounded-full ${LIVE_CLASS[live]}`} />
          <span data-testid="feed-live">{live}</span>
        </span>
        {paused && newCount > 0 ? (
          <button type="button" data-testid="feed-new-count" className="btn btn-primary" onClick={onResume}>
            {newCount} new
          </button>
        ) : null}
        <button
          type="button"
          data-testid="feed-pause"
          aria-pressed={paused}
          className="btn"
          onClick={paused ? onResume : onPause}
        >
          {paused ? 'Resume' : 'Pause'}
        </button>
      </div>
    </div>
  )
}

/**
 * The request feed: the newest entries for the filter, then live ones over the WebSocket. A filter
 * change refetches from the API (300 ms after the last keystroke) and is applied to live messages
 * too; a reconnect catches up with `after=<lastId>` before it shows live messages again.
 */
export function FeedView({ api }: { api: Api }) {
  const [state, dispatch] = useReducer(feedReducer, initialFeedState)
  const [draft, setDraft] = useState<FeedFilter>(EMPTY_FILTER)
  const [live, setLive] = useState<LiveStatus>('connecting')
  const [error, setError] = useState<ApiError | null>(null)
  const [selected, setSelected] = useState<LedgerEntry | null>(null)
  const controller = useRef<FeedController | null>(null)
  controller.current ??= new FeedController({ requests: api.requests, dispatch, onError: setError })
  const started = useRef(false)
  const stateFilter = useRef(state.filter)
  stateFilter.current = state.filter

  // The draft is the trigger: the first load runs at once, later ones after typing pauses.
  useEffect(() => {
    const c = controller.current as FeedController
    if (!started.current) {
      started.current = true
      void c.load(draft)
      return
    }
    if (sameFilter(draft, stateFilter.current)) return
    const timer = setTimeout(() => void c.load(draft), 300)
    return () => clearTimeout(timer)
  }, [draft])

  // One socket for the life of the view (the api, and its feedProtocols, never change); the
  // controller decides what a (re)connect fetches.
  useEffect(() => {
    const c = controller.current as FeedController
    const feed = new LiveFeed({
      url: wsUrl(window.location),
      protocols: api.feedProtocols,
      onStatus: setLive,
      onEntries: (entries) => c.receive(entries),
      catchUp: () => c.catchUp(),
    })
    feed.start()
    return () => feed.stop()
  }, [api.feedProtocols])

  const shown = selected ? (state.rows.find((r) => r.id === selected.id) ?? selected) : null
  const exp = exportCommand(state.filter, new Date())
  return (
    <>
      <PageTitle>Request feed</PageTitle>
      <FeedToolbar
        draft={draft}
        onDraft={setDraft}
        live={live}
        paused={state.paused}
        newCount={state.newCount}
        onPause={() => dispatch({ type: 'pause' })}
        onResume={() => dispatch({ type: 'resume' })}
      />
      {error ? <ErrorBox error={error} onRetry={() => void controller.current?.load(state.filter)} /> : null}
      <FeedTable rows={state.rows} selectedId={shown?.id ?? null} onOpen={setSelected} />
      <div className="mt-2 flex flex-wrap items-start justify-between gap-2 text-xs text-slate-400">
        <span>
          {state.rows.length} {state.rows.length === 1 ? 'request' : 'requests'}
          {state.rows.length >= FEED_CAP ? ` (the newest ${FEED_CAP}; older ones: aegis ledger show)` : ''}
        </span>
        <details>
          <summary className="cursor-pointer">Export this filter</summary>
          <code
            data-testid="feed-export"
            className="mt-1 block rounded bg-slate-900 p-2 font-mono text-slate-300"
          >
            {exp.command}
          </code>
          {exp.missing.length > 0 ? (
            <p className="mt-1">ledger export has no {exp.missing.join(' or ')} filter.</p>
          ) : null}
        </details>
      </div>
      {shown ? <FeedDrawer entry={shown} onClose={() => setSelected(null)} /> : null}
    </>
  )
}
