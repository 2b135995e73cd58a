import { describe, expect, it } from 'vitest'
import { parseSince } from '../src/index.js'

describe('parseSince', () => {
  it('reads a date as midnight UTC', () => {
    expect(parseSince('2026-03-01').toISOString()).toBe('2026-03-01T00:00:00.000Z')
    expect(parseSince('2024-02-29').toISOString()).toBe('2024-02-29T00:00:00.000Z')
  })

  it('takes a full ISO 8601 time as given', () => {
    expect(parseSince('2026-03-01T10:30:00Z').toISOString()).toBe('2026-03-01T10:30:00.000Z')
    expect(parseSince('2026-03-01T10:30:00.250+02:00').toISOString()).toBe('2026-03-01T08:30:00.250Z')
    expect(parseSince('2026-03-01T10:30-0500').toISOString()).toBe('2026-03-01T15:30:00.000Z')
  })

  it("rounds a time finer than the entries' milliseconds up, so since and until hold exactly", () => {
    // An entry at 09.676 is before 09.6769: `ts >= since` must leave it out, `ts < until` keep it.
    expect(parseSince('2026-03-01T10:30:09.6769Z').toISOString()).toBe('2026-03-01T10:30:09.677Z')
    expect(parseSince('2026-03-01T10:30:09.676000001Z').toISOString()).toBe('2026-03-01T10:30:09.677Z')
    expect(parseSince('2026-03-01T10:30:09.999999+01:00').toISOString()).toBe('2026-03-01T09:30:10.000Z')
    expect(parseSince('2026-03-01T10:30:09.676000Z').toISOString()).toBe('2026-03-01T10:30:09.676Z')
    expect(parseSince('2026-03-01T10:30:09.5').toISOString()).toBe('2026-03-01T10:30:09.500Z')
  })

  it('reads a time without an offset as UTC, like a date', () => {
    expect(parseSince('2026-03-01T10:30:00').toISOString()).toBe('2026-03-01T10:30:00.000Z')
  })

  it.each([
    'yesterday',
    '',
    '2026-3-1',
    '2026-02-30',
    '2026-13-01',
    '2026-03-01T24:00:00Z',
    '2026-03-01T10:60Z',
    '2026-03-01 10:00:00',
    '1700000000',
    '2026-03-01T10:00:00Z junk',
  ])('refuses %j', (text) => {
    expect(() => parseSince(text)).toThrow(
      `Invalid --since value "${text}": expected a date (YYYY-MM-DD) or an ISO 8601 time`,
    )
  })
})
