import type { Api } from '../api/client.js'
import type { Overview } from '../api/types.js'
import { BarChart, TimelineChart } from '../components/charts.js'
import { Empty, ErrorBox, Loading, PageTitle, Panel, Stat } from '../components/ui.js'
import { duration, localDateTime, percent, rate } from '../lib/format.js'
import { useResource } from '../lib/use-resource.js'

export type GateStatus =
  | 'running'
  | 'sealed'
  | 'ledger unavailable'
  | 'draining'
  | 'unavailable'
  | 'unreachable'

/** Running only when the gate's health says `ok`: any other answer refuses requests. */
export function gateStatus(gate: Overview['gate']): GateStatus {
  if (!gate.reachable) return 'unreachable'
  if (gate.sealed || gate.status === 'sealed') return 'sealed'
  switch (gate.status) {
    case 'ok':
      return 'running'
    case 'ledger_unavailable':
      return 'ledger unavailable'
    case 'draining':
      return 'draining'
    default:
      return 'unavailable'
  }
}

const STATUS_CLASS: Record<GateStatus, string> = {
  running: 'text-emerald-300',
  sealed: 'text-amber-300',
  'ledger unavailable': 'text-rose-300',
  draining: 'text-amber-300',
  unavailable: 'text-rose-300',
  unreachable: 'text-rose-300',
}

/** Why a gate that answers is not serving (the status word's tooltip). */
const STATUS_TITLE: Partial<Record<GateStatus, string>> = {
  sealed: 'The vault is sealed: every request is refused until it is unsealed',
  'ledger unavailable':
    'The audit ledger cannot be written: every request is refused (ledger_unavailable) until a write succeeds',
  draining: 'The gate is shutting down',
  unavailable: 'The gate answers its health check, but not as serving',
}

export function OverviewPanel({ data }: { data: Overview }) {
  const status = gateStatus(data.gate)
  const w = data.window
  const minutes = Math.round(w.seconds / 60)
  return (
    <div className="space-y-4">
      <div className="grid grid-cols-2 gap-3 md:grid-cols-4">
        <Stat
          label="Gate"
          testId="overview-gate-status"
          value={
            <span className={STATUS_CLASS[status]} title={STATUS_TITLE[status]}>
              {status}
            </span>
          }
          hint={
            <>
              {data.gate.mode === 'embedded' ? 'started with the dashboard' : 'external'} · {data.gate.url} ·
              vault {data.gate.vault}
            </>
          }
        />
        <Stat
          label="Requests / s"
          testId="overview-req-rate"
          value={rate(w.reqPerS)}
          hint={`${w.requests} in the last ${minutes} min`}
        />
        <Stat
          label="Block rate"
          testId="overview-block-rate"
          value={percent(w.blockRate)}
          hint={`${w.blocked} blocked, ${w.failed} failed`}
        />
        <Stat
          label="p95 latency"
          testId="overview-p95"
          value={w.p95Ms === null ? '—' : duration(w.p95Ms)}
          hint={w.p95Ms === null ? 'no completed request in the window' : `last ${minutes} min`}
        />
      </div>
      <Panel title={`Requests over time (per ${data.timeline.bucketSeconds} s)`}>
        <TimelineChart buckets={data.timeline.buckets} bucketSeconds={data.timeline.bucketSeconds} />
      </Panel>
      <div className="grid gap-4 lg:grid-cols-2">
        <Panel title="Top blocked codes (24 h)">
          <BarChart
            testId="chart-top-blocked"
            label="Most frequent refusal codes in the last 24 hours"
            bars={data.topBlocked.map((c) => ({ label: c.code, value: c.count }))}
          />
        </Panel>
        <Panel title="Credentials expiring soon">
          <Expiring items={data.expiring} />
        </Panel>
      </div>
    </div>
  )
}

function Expiring({ items }: { items: Overview['expiring'] }) {
  if (items === null) {
    return (
      <div data-testid="overview-expiring">
        <Empty>Not available: it needs the vault:read permission and an unsealed vault.</Empty>
      </div>
    )
  }
  return (
    <ul data-testid="overview-expiring" className="divide-y divide-slate-800 text-sm">
      {items.length === 0 ? <li className="py-2 text-slate-400">No credential expires soon.</li> : null}
      {items.map((c) => (
        <li key={c.name} data-testid="expiring-item" className="flex items-center justify-between gap-2 py-2">
          <span>
            <span className="font-medium text-slate-100">{c.name}</span>{' '}
            <span className="text-slate-400">({c.service})</span>
          </span>
          <span
            title={c.expiresAt}
            className={
              c.daysLeft < 0 ? 'text-rose-300' : c.daysLeft <= 7 ? 'text-amber-300' : 'text-slate-300'
            }
          >
            {c.daysLeft < 0
              ? `expired ${localDateTime(c.expiresAt)}`
              : c.daysLeft === 0
                ? 'expires today'
                : `in ${c.daysLeft} d · ${localDateTime(c.expiresAt)}`}
          </span>
        </li>
      ))}
    </ul>
  )
}

/** Refreshes every 5 s: the numbers are a 5-minute window, so faster would only redraw noise. */
export function OverviewView({ api }: { api: Api }) {
  const { data, error, loading, reload } = useResource(() => api.overview(), 'overview', 5000)
  return (
    <>
      <PageTitle>Overview</PageTitle>
      {error ? <ErrorBox error={error} onRetry={reload} /> : null}
      {data ? <OverviewPanel data={data} /> : loading ? <Loading what="the overview" /> : null}
    </>
  )
}
