const DATE = /^(\d{4})-(\d{2})-(\d{2})$/
const TIME =
  /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d)(?:\.(\d{1,9}))?)?(Z|[+-](?:[01]\d|2[0-3]):?[0-5]\d)?$/i

/** True when year-month-day names a real calendar day. */
function realDay(year: string, month: string, day: string): boolean {
  const d = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)))
  return (
    d.getUTCFullYear() === Number(year) &&
    d.getUTCMonth() === Number(month) - 1 &&
    d.getUTCDate() === Number(day)
  )
}

/**
 * Parses a `--since`/`--until` value. `2026-03-01` is midnight UTC; a full ISO 8601 time
 * (`2026-03-01T09:30:00+01:00`) is taken as given, and one without an offset is read as UTC.
 * Anything else throws. Entries are timed to the millisecond; a time finer than that is rounded
 * up, since `ts >= since` and `ts < until` then hold exactly for the time given (cut off, as
 * `Date.parse` does, `…09.6769Z` let in an entry of `…09.676Z`, before it).
 */
export function parseSince(text: string): Date {
  const value = text.trim()
  const date = DATE.exec(value)
  if (date) {
    const [, y = '', m = '', d = ''] = date
    if (realDay(y, m, d)) return new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)))
  }
  const time = TIME.exec(value)
  if (time) {
    const [, y = '', m = '', d = '', , , , fraction = '', zone] = time
    if (realDay(y, m, d)) {
      const ms = Date.parse(zone ? value : `${value}Z`)
      const finer = /[1-9]/.test(fraction.slice(3)) ? 1 : 0
      if (Number.isFinite(ms)) return new Date(ms + finer)
    }
  }
  throw new Error(`Invalid --since value "${text}": expected a date (YYYY-MM-DD) or an ISO 8601 time`)
}
