/** Display helpers: pure, locale-independent where a test reads them. */

const pad = (n: number): string => String(n).padStart(2, '0')

/** `14:03:07` in the browser's local time; the cell's title carries the UTC ISO time. */
export function localTime(iso: string): string {
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}

/** `2026-03-01 14:03` local. */
export function localDateTime(iso: string | null | undefined): string {
  if (!iso) return '—'
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`
}

/** `1.2 KB`, `3 B`, `—` for unknown. */
export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—'
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`
  return `${(n / (1024 * 1024)).toFixed(1)} MB`
}

/** `42 ms`, `1.5 s`, `—`. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—'
  if (ms < 1000) return `${Math.round(ms)} ms`
  return `${(ms / 1000).toFixed(1)} s`
}

/** `25.0 %` from 0.25. */
export function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(1)} %`
}

/** `0.04` req/s with two decimals below 10, whole numbers above. */
export function rate(perSecond: number): string {
  return perSecond >= 10 ? perSecond.toFixed(0) : perSecond.toFixed(2)
}

/** The path without query or fragment (the ledger never stores them; this is a second guard). */
export function pathOnly(path: string | null): string {
  if (!path) return '—'
  const cut = path.search(/[?#]/)
  return cut === -1 ? path : path.slice(0, cut)
}

/** Whole days from now until `iso` (negative once passed), or null without a date. */
export function daysUntil(iso: string | null, now: Date): number | null {
  if (!iso) return null
  const t = Date.parse(iso)
  if (Number.isNaN(t)) return null
  return Math.floor((t - now.getTime()) / 86_400_000)
}

/** How urgent an expiry is: shown as colour and text, never colour alone. */
export type ExpiryLevel = 'none' | 'ok' | 'soon' | 'expired'

/** `soon` within 7 days: the first threshold of the webhook expiry notices (EXPIRY_THRESHOLDS_DAYS). */
export function expiryLevel(iso: string | null, now: Date, soonDays = 7): ExpiryLevel {
  const days = daysUntil(iso, now)
  if (days === null) return 'none'
  if (Date.parse(iso as string) <= now.getTime()) return 'expired'
  return days < soonDays ? 'soon' : 'ok'
}
