import { useId, useState } from 'react'
import type { Api } from '../api/client.js'
import type { BlockedReport } from '../api/types.js'
import { type Bar, BarChart } from '../components/charts.js'
import { EmptyRow, ErrorBox, Loading, PageTitle, Panel } from '../components/ui.js'
import { localDateTime } from '../lib/format.js'
import { useResource } from '../lib/use-resource.js'

const cell = 'px-2 py-2'

/** The since choices of this view: an operator asks "today?" more than "this quarter?". */
export const BLOCKED_SINCE: Readonly<Record<string, number>> = {
  '1h': 3600_000,
  '24h': 86_400_000,
  '7d': 7 * 86_400_000,
  '30d': 30 * 86_400_000,
}

/** Totals per code over all agents, largest first (ties by name), at most `limit`. */
export function topCodes(report: BlockedReport, limit = 10): Bar[] {
  const byCode = new Map<string, number>()
  for (const g of report.groups) byCode.set(g.code, (byCode.get(g.code) ?? 0) + g.count)
  return [...byCode]
    .map(([label, value]) => ({ label, value }))
    .sort((a, b) => b.value - a.value || a.label.localeCompare(b.label))
    .slice(0, limit)
}

export function BlockedPanel({ report }: { report: BlockedReport }) {
  return (
    <div className="space-y-4">
      <Panel title={`Top codes since ${localDateTime(report.since)} · ${report.total} blocked`}>
        <BarChart
          testId="chart-blocked-codes"
          label="Blocked requests per refusal code"
          bars={topCodes(report)}
        />
      </Panel>
      <div className="overflow-x-auto rounded-lg border border-slate-800">
        <table data-testid="blocked-table" className="w-full text-left text-sm">
          <thead className="bg-slate-900 text-xs uppercase tracking-wide text-slate-400">
            <tr>
              <th className={cell}>Code</th>
              <th className={cell}>Agent</th>
              <th className={`${cell} text-right`}>Count</th>
              <th className={cell}>Last seen</th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-800/70">
            {report.groups.length === 0 ? (
              <EmptyRow columns={4}>Nothing was blocked in this period.</EmptyRow>
            ) : null}
            {report.groups.map((g) => (
              <tr key={`${g.code}\u0000${g.agent ?? ''}`} data-testid="blocked-row">
                <td className={`${cell} font-mono text-xs`}>{g.code}</td>
                <td className={cell}>{g.agent ?? <span className="text-slate-400">unknown agent</span>}</td>
                <td className={`${cell} text-right tabular-nums`}>{g.count}</td>
                <td className={cell} title={g.lastSeen}>
                  {localDateTime(g.lastSeen)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  )
}

export function BlockedView({ api }: { api: Api }) {
  const [since, setSince] = useState('24h')
  const selectId = useId()
  const { data, error, loading, reload } = useResource(
    () => api.blocked(new Date(Date.now() - (BLOCKED_SINCE[since] ?? 86_400_000)).toISOString()),
    `blocked:${since}`,
    15_000,
  )
  return (
    <>
      <PageTitle
        actions={
          <label htmlFor={selectId} className="flex items-center gap-2 text-sm text-slate-400">
            Since
            <select
              id={selectId}
              data-testid="blocked-since"
              className="field"
              value={since}
              onChange={(e) => setSince(e.target.value)}
            >
              {Object.keys(BLOCKED_SINCE).map((k) => (
                <option key={k} value={k}>
                  last {k}
                </option>
              ))}
            </select>
          </label>
        }
      >
        Blocked requests
      </PageTitle>
      {error ? <ErrorBox error={error} onRetry={reload} /> : null}
      {data ? <BlockedPanel report={data} /> : loading ? <Loading what="blocked requests" /> : null}
    </>
  )
}
