/**
 * When attempt n+1 follows attempt n (phase2-notes §1.3, as Svix and Standard Webhooks do):
 * immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h — eight attempts over about a day.
 */
export const RETRY_SCHEDULE_MS: readonly number[] = [
  0,
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  10 * 3_600_000,
]

/** ±10 %: receivers that failed together do not all get their retries in the same second. */
export const JITTER = 0.1

/**
 * The delay before attempt `attempt` (0-based; attempt 0 is the first), or null when the schedule
 * is exhausted. `random` is in [0, 1).
 */
export function retryDelay(
  attempt: number,
  random: number,
  schedule: readonly number[] = RETRY_SCHEDULE_MS,
): number | null {
  const base = schedule[attempt]
  if (base === undefined) return null
  return Math.round(base * (1 - JITTER + 2 * JITTER * random))
}

/** Longest `Retry-After` honoured: beyond it the schedule's own delay stands (a day is the schedule's span). */
export const MAX_RETRY_AFTER_MS = 24 * 3_600_000

/** `Retry-After` (seconds or an HTTP date) in ms from `now`, or null when absent or unreadable. */
export function retryAfterMs(value: string | undefined, now: number): number | null {
  if (value === undefined) return null
  const text = value.trim()
  if (/^\d+$/.test(text)) return Math.min(Number(text) * 1000, MAX_RETRY_AFTER_MS)
  const at = Date.parse(text)
  if (Number.isNaN(at)) return null
  return Math.min(Math.max(0, at - now), MAX_RETRY_AFTER_MS)
}
