import type { LedgerEntry } from '../api/types.js'
import { Drawer } from '../components/Drawer.js'
import { DecisionBadge, DryRunMarker } from '../components/ui.js'
import { bytes, duration, localTime, pathOnly } from '../lib/format.js'

const cell = 'whitespace-nowrap px-2 py-1.5'

/** The feed rows (already capped by the feed state); a row or its time button opens the drawer. */
export function FeedTable({
  rows,
  selectedId,
  onOpen,
  emptyText = 'No requests match yet. New ones appear here as the gate handles them.',
}: {
  rows: readonly LedgerEntry[]
  selectedId: number | null
  onOpen: (entry: LedgerEntry) => void
  emptyText?: string
}) {
  return (
    <div className="overflow-x-auto rounded-lg border border-slate-800">
      <table data-testid="feed-table" className="w-full text-left text-sm">
        <thead className="bg-slate-900 text-xs uppercase tracking-wide text-slate-400">
          <tr>
            <th className={cell}>Time</th>
            <th className={cell}>Agent</th>
            <th className={cell}>Service</th>
            <th className={cell}>Method</th>
            <th className={cell}>Path</th>
            <th className={cell}>Decision</th>
            <th className={cell}>Code</th>
            <th className={`${cell} text-right`}>Status</th>
            <th className={`${cell} text-right`}>Duration</th>
            <th className={`${cell} text-right`}>Bytes in / out</th>
            <th className={cell}>Channel</th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-800/70">
          {rows.length === 0 ? (
            <tr>
              <td colSpan={11} data-testid="feed-empty" className="px-2 py-6 text-center text-slate-400">
                {emptyText}
              </td>
            </tr>
          ) : null}
          {rows.map((e) => (
            <tr
              key={e.id}
              data-testid="feed-row"
              data-id={e.id}
              aria-selected={selectedId === e.id}
              onClick={() => onOpen(e)}
              className={`cursor-pointer hover:bg-slate-800/50 ${selectedId === e.id ? 'bg-slate-800' : ''}`}
            >
              <td className={cell}>
                <button
                  type="button"
                  title={e.time}
                  aria-label={`Details of request ${e.id} at ${e.time} UTC`}
                  className="font-mono text-slate-300 underline-offset-2 hover:underline"
                  onClick={(ev) => {
                    ev.stopPropagation()
                    onOpen(e)
                  }}
                >
                  {localTime(e.time)}
                </button>
              </td>
              <td className={cell}>{e.agent ?? '—'}</td>
              <td className={cell}>{e.service ?? '—'}</td>
              <td className={`${cell} font-mono text-xs`}>{e.method ?? '—'}</td>
              <td className={`${cell} max-w-xs truncate font-mono text-xs`} title={pathOnly(e.path)}>
                {pathOnly(e.path)}
              </td>
              <td className={cell}>
                <DecisionBadge decision={e.decision} />
                {e.dryRun ? <DryRunMarker code={e.dryRun} /> : null}
              </td>
              <td className={`${cell} font-mono text-xs`} data-testid="feed-code">
                {e.code ?? (e.dryRun ? <span className="text-amber-300/80">{e.dryRun}</span> : '—')}
              </td>
              <td className={`${cell} text-right tabular-nums`}>{e.status ?? '—'}</td>
              <td className={`${cell} text-right tabular-nums`}>{duration(e.durationMs)}</td>
              <td className={`${cell} text-right tabular-nums`}>
                {bytes(e.bytesIn)} / {bytes(e.bytesOut)}
              </td>
              <td className={cell}>{e.channel}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

const FIELDS: readonly (keyof LedgerEntry)[] = [
  'id',
  'time',
  'requestId',
  'channel',
  'agent',
  'credential',
  'service',
  'targetHost',
  'method',
  'path',
  'decision',
  'code',
  'dryRun',
  'status',
  'durationMs',
  'bytesIn',
  'bytesOut',
  'redactions',
  'inspection',
]

/** The whole entry: every field, and the JSON as `ledger show --json` prints it. */
export function FeedDrawer({ entry: raw, onClose }: { entry: LedgerEntry; onClose: () => void }) {
  // The ledger stores paths without query or fragment; cut again here, as the table does.
  const entry: LedgerEntry = raw.path === null ? raw : { ...raw, path: pathOnly(raw.path) }
  return (
    <Drawer title={`Request #${entry.id}`} testId="feed-drawer" onClose={onClose}>
      <dl className="grid grid-cols-[8rem_1fr] gap-x-3 gap-y-1.5 text-sm">
        {FIELDS.filter((f) => entry[f] !== undefined).map((f) => (
          <div key={f} className="contents">
            <dt className="text-slate-400">{f}</dt>
            <dd data-testid={`drawer-${f}`} className="break-all font-mono text-xs text-slate-200">
              {f === 'time'
                ? `${entry.time} (local ${new Date(entry.time).toLocaleString()})`
                : String(entry[f] ?? '—')}
            </dd>
          </div>
        ))}
      </dl>
      <h3 className="mt-5 text-xs uppercase tracking-wide text-slate-400">JSON</h3>
      <pre className="mt-1 overflow-auto rounded bg-slate-950 p-3 text-xs text-slate-300">
        {JSON.stringify(entry, null, 2)}
      </pre>
    </Drawer>
  )
}
