/**
 * Daily time windows in IANA zones, evaluated on the local wall clock (DST-correct via Intl).
 */
import type { TimeWindow } from './types.js'

const TIME_RE = /^([01]?[0-9]|2[0-3]):([0-5][0-9])$/
const MINUTES_PER_DAY = 1440

/** Minutes since midnight for `HH:MM` (00:00–23:59; `24:00` too when `allowEndOfDay`), or null. */
export function parseClock(text: string, allowEndOfDay: boolean): number | null {
  if (allowEndOfDay && text === '24:00') return MINUTES_PER_DAY
  const match = TIME_RE.exec(text)
  if (!match) return null
  return Number(match[1]) * 60 + Number(match[2])
}

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatter(timezone: string): Intl.DateTimeFormat {
  let format = formatters.get(timezone)
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      hour: '2-digit',
      minute: '2-digit',
    })
    formatters.set(timezone, format)
  }
  return format
}

/** True for a time zone Intl knows (IANA names such as `Europe/London`, `UTC`). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone })
    return true
  } catch {
    return false
  }
}

/** A `time_window` as written in a policy file. */
export interface TimeWindowInput {
  start: string
  end: string
  timezone?: string | undefined
}

export type CompiledWindow =
  | { ok: true; window: TimeWindow }
  | { ok: false; problems: { field: 'start' | 'end' | 'timezone'; reason: string }[] }

/**
 * Validates and compiles a window: `HH:MM` start (00:00–23:59), end (00:00–24:00, different from
 * start; below start = across midnight), and an IANA zone (default UTC, kept as written).
 */
export function compileWindow(input: TimeWindowInput): CompiledWindow {
  const problems: { field: 'start' | 'end' | 'timezone'; reason: string }[] = []
  const start = parseClock(input.start, false)
  const end = parseClock(input.end, true)
  const timezone = input.timezone ?? 'UTC'
  if (start === null)
    problems.push({
      field: 'start',
      reason: `invalid time "${input.start}": use HH:MM, 24-hour, from 00:00 to 23:59 (quoted: "09:00")`,
    })
  if (end === null)
    problems.push({
      field: 'end',
      reason: `invalid time "${input.end}": use HH:MM, 24-hour, from 00:00 to 24:00 (quoted: "18:00")`,
    })
  if (!isTimeZone(timezone)) {
    problems.push({
      field: 'timezone',
      reason: `unknown time zone "${timezone}": use an IANA name such as Europe/London or UTC`,
    })
  }
  if (start !== null && end !== null && start === end) {
    problems.push({
      field: 'end',
      reason:
        'end equals start: for the whole day use start "00:00" and end "24:00", or leave time_window out',
    })
  }
  if (start === null || end === null || problems.length > 0) return { ok: false, problems }
  return {
    ok: true,
    window: { start, end, timezone, text: `${formatClock(start)}-${formatClock(end)} ${timezone}` },
  }
}

/** Local wall-clock minutes since midnight at `now` (epoch ms) in `timezone`. */
export function localMinutes(timezone: string, now: number): number {
  let hour = 0
  let minute = 0
  for (const part of formatter(timezone).formatToParts(now)) {
    if (part.type === 'hour') hour = Number(part.value) % 24
    else if (part.type === 'minute') minute = Number(part.value)
  }
  return hour * 60 + minute
}

/**
 * True when the local time at `now` is in `[start, end)`; a window with `start > end` runs across
 * midnight. An invalid `now` is outside every window (fail closed).
 */
export function windowOpen(window: TimeWindow, now: number): boolean {
  if (!Number.isFinite(now)) return false
  let minutes: number
  try {
    minutes = localMinutes(window.timezone, now)
  } catch {
    return false
  }
  return window.start < window.end
    ? minutes >= window.start && minutes < window.end
    : minutes >= window.start || minutes < window.end
}

/** `HH:MM` for minutes since midnight. */
export function formatClock(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`
}
