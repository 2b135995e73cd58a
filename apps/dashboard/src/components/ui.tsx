import type { ReactNode } from 'react'
import type { LedgerEntry } from '../api/types.js'

/** Small shared pieces: badges, boxes for errors and empty states, stat cards. */

const DECISION_CLASS: Record<string, string> = {
  allowed: 'bg-emerald-500/15 text-emerald-300 ring-emerald-500/40',
  blocked: 'bg-rose-500/15 text-rose-300 ring-rose-500/40',
  failed: 'bg-amber-500/15 text-amber-300 ring-amber-500/40',
}

export function DecisionBadge({ decision }: { decision: LedgerEntry['decision'] }) {
  return (
    <span
      data-testid="decision-badge"
      className={`inline-block rounded px-1.5 py-0.5 text-xs font-medium ring-1 ring-inset ${
        DECISION_CLASS[decision] ?? 'bg-slate-700/40 text-slate-300 ring-slate-600'
      }`}
    >
      {decision}
    </span>
  )
}

/** Marks a request that dry-run mode let through although it would have been refused. */
export function DryRunMarker({ code }: { code: string }) {
  return (
    <span
      data-testid="dry-run"
      title={`Dry run: would have been refused with ${code}`}
      className="ml-1 inline-block rounded border border-dashed border-amber-400/60 px-1 text-[10px] uppercase tracking-wide text-amber-300"
    >
      dry-run
    </span>
  )
}

export function ErrorBox({
  error,
  onRetry,
}: {
  error: { message: string; code?: string }
  onRetry?: () => void
}) {
  return (
    <div
      role="alert"
      data-testid="error"
      className="rounded-md border border-rose-500/40 bg-rose-950/40 px-4 py-3 text-sm text-rose-200"
    >
      <p>
        {error.message}
        {error.code ? <span className="ml-2 font-mono text-xs text-rose-300/70">({error.code})</span> : null}
      </p>
      {onRetry ? (
        <button type="button" className="btn mt-2" onClick={onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  )
}

export function Empty({ children, testId = 'empty' }: { children: ReactNode; testId?: string }) {
  return (
    <p
      data-testid={testId}
      className="rounded-md border border-dashed border-slate-700 px-4 py-6 text-center text-sm text-slate-400"
    >
      {children}
    </p>
  )
}

export function Loading({ what }: { what: string }) {
  return (
    <p data-testid="loading" className="px-1 py-6 text-sm text-slate-400" aria-live="polite">
      Loading {what}…
    </p>
  )
}

export function Stat({
  label,
  value,
  hint,
  testId,
}: {
  label: string
  value: ReactNode
  hint?: ReactNode
  testId: string
}) {
  return (
    <div className="rounded-lg border border-slate-800 bg-slate-900 p-4">
      <div className="text-xs uppercase tracking-wide text-slate-400">{label}</div>
      <div data-testid={testId} className="mt-1 text-2xl font-semibold text-slate-100 tabular-nums">
        {value}
      </div>
      {hint ? <div className="mt-1 text-xs text-slate-400">{hint}</div> : null}
    </div>
  )
}

export function Panel({
  title,
  actions,
  children,
}: {
  title: string
  actions?: ReactNode
  children: ReactNode
}) {
  return (
    <section className="rounded-lg border border-slate-800 bg-slate-900 p-4">
      <div className="mb-3 flex items-center justify-between gap-2">
        <h2 className="text-sm font-semibold text-slate-200">{title}</h2>
        {actions}
      </div>
      {children}
    </section>
  )
}

export function PageTitle({ children, actions }: { children: ReactNode; actions?: ReactNode }) {
  return (
    <div className="mb-4 flex flex-wrap items-center justify-between gap-3">
      <h1 className="text-lg font-semibold text-slate-100">{children}</h1>
      {actions}
    </div>
  )
}

/** The one row of a table that has none, so the table (and its testid) is always there. */
export function EmptyRow({ columns, children }: { columns: number; children: ReactNode }) {
  return (
    <tr>
      <td colSpan={columns} data-testid="empty" className="px-2 py-6 text-center text-sm text-slate-400">
        {children}
      </td>
    </tr>
  )
}
