import type { TimelineBucket } from '../api/types.js'
import { localTime } from '../lib/format.js'

/**
 * Hand-drawn SVG charts (no chart library: two charts do not justify 100 KB). Colours come with
 * text: every bar has a <title> with its numbers, and the legend names each colour.
 */

const SERIES = [
  { key: 'allowed', label: 'allowed', className: 'fill-emerald-500' },
  { key: 'blocked', label: 'blocked', className: 'fill-rose-500' },
  { key: 'failed', label: 'failed', className: 'fill-amber-400' },
] as const

export function TimelineChart({
  buckets,
  bucketSeconds,
}: {
  buckets: readonly TimelineBucket[]
  bucketSeconds: number
}) {
  // The bars stretch to the panel's width (preserveAspectRatio="none"); text would stretch with
  // them, so the labels are HTML around the SVG.
  const width = 720
  const height = 140
  const max = Math.max(1, ...buckets.map((b) => b.allowed + b.blocked + b.failed))
  const slot = buckets.length > 0 ? width / buckets.length : width
  const barWidth = Math.max(1, slot - 2)
  const total = buckets.reduce((sum, b) => sum + b.allowed + b.blocked + b.failed, 0)
  const first = buckets[0]
  const last = buckets[buckets.length - 1]
  return (
    <figure data-testid="timeline">
      <div className="flex justify-between text-[11px] text-slate-500">
        <span>max {max}</span>
        <span>{total} in total</span>
      </div>
      <div className="relative">
        <svg
          data-testid="chart-timeline"
          viewBox={`0 0 ${width} ${height}`}
          className="h-36 w-full"
          role="img"
          aria-label={`Requests per ${bucketSeconds} seconds, stacked by decision; ${total} in total`}
          preserveAspectRatio="none"
        >
          <line x1="0" x2={width} y1={height} y2={height} className="stroke-slate-700" strokeWidth="1" />
          {buckets.map((b, i) => {
            let y = height
            const x = i * slot + 1
            return (
              <g key={b.t} data-testid="timeline-bucket">
                <title>{`${localTime(b.t)}: ${b.allowed} allowed, ${b.blocked} blocked, ${b.failed} failed`}</title>
                {SERIES.map((s) => {
                  const value = b[s.key]
                  if (value <= 0) return null
                  const h = (value / max) * height
                  y -= h
                  return <rect key={s.key} x={x} y={y} width={barWidth} height={h} className={s.className} />
                })}
              </g>
            )
          })}
        </svg>
        {total === 0 ? (
          <p className="absolute inset-0 flex items-center justify-center text-xs text-slate-500">
            No requests in this window
          </p>
        ) : null}
      </div>
      <div className="flex justify-between text-[11px] text-slate-500">
        <span>{first ? localTime(first.t) : ''}</span>
        <span>{last ? localTime(last.t) : ''}</span>
      </div>
      <figcaption className="mt-2 flex gap-4 text-xs text-slate-400">
        {SERIES.map((s) => (
          <span key={s.key} className="flex items-center gap-1">
            <svg width="10" height="10" aria-hidden="true">
              <rect width="10" height="10" className={s.className} />
            </svg>
            {s.label}
          </span>
        ))}
      </figcaption>
    </figure>
  )
}

export interface Bar {
  label: string
  value: number
}

/** Horizontal bars, largest first as given; the count is written next to each bar. */
export function BarChart({ bars, testId, label }: { bars: readonly Bar[]; testId: string; label: string }) {
  const width = 560
  const labelWidth = 200
  const countWidth = 48
  const row = 24
  const height = Math.max(row, bars.length * row)
  const max = Math.max(1, ...bars.map((b) => b.value))
  const span = width - labelWidth - countWidth
  return (
    <svg
      data-testid={testId}
      viewBox={`0 0 ${width} ${height}`}
      width={width}
      height={height}
      // Natural size, shrinking on narrow screens: scaled up, the labels would grow with the bars.
      className="h-auto max-w-full"
      role="img"
      aria-label={label}
    >
      {bars.length === 0 ? (
        <text x={width / 2} y={16} textAnchor="middle" className="fill-slate-500 text-xs">
          Nothing blocked in this period
        </text>
      ) : null}
      {bars.map((b, i) => {
        const y = i * row
        const w = Math.max(2, (b.value / max) * span)
        return (
          <g key={b.label} data-testid="bar">
            <title>{`${b.label}: ${b.value}`}</title>
            <text
              x={labelWidth - 8}
              y={y + 16}
              textAnchor="end"
              className="fill-slate-300 font-mono text-[11px]"
            >
              {b.label.length > 28 ? `${b.label.slice(0, 27)}…` : b.label}
            </text>
            <rect x={labelWidth} y={y + 5} width={w} height={row - 10} rx="2" className="fill-rose-500/80" />
            <text x={labelWidth + w + 6} y={y + 16} className="fill-slate-400 text-[11px] tabular-nums">
              {b.value}
            </text>
          </g>
        )
      })}
    </svg>
  )
}
