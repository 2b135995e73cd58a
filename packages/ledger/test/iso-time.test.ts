import { describe, expect, it } from 'vitest'
import { isoOf } from '../src/rows.js'

describe('isoOf (the time column)', () => {
  it('is toISOString for every millisecond of a second, in any order, and across seconds', () => {
    const base = Date.UTC(2026, 11, 7, 15, 59, 59, 0)
    const instants: number[] = []
    for (let ms = 0; ms < 1000; ms++) instants.push(base + ms)
    // Forward, across the minute, hour and day boundaries, then backwards and interleaved.
    instants.push(
      base + 1000,
      base + 1001,
      base + 999,
      base - 1,
      base,
      Date.UTC(2026, 11, 31, 23, 59, 59, 999),
    )
    instants.push(Date.UTC(2027, 0, 1, 0, 0, 0, 0), base + 5, base + 500, base + 5)
    for (const ts of instants) expect(isoOf(ts), String(ts)).toBe(new Date(ts).toISOString())
  })

  it('is toISOString before 1970 and beyond the four-digit years', () => {
    for (const ts of [-1, -999, -1000, -1001, 0, 1, 253402300799999, 253402300800000, -62167219200001]) {
      expect(isoOf(ts), String(ts)).toBe(new Date(ts).toISOString())
      expect(isoOf(ts), `${ts} again`).toBe(new Date(ts).toISOString())
    }
  })

  it('throws as toISOString does for an instant that is not one', () => {
    expect(() => isoOf(Number.NaN)).toThrow(RangeError)
    expect(() => isoOf(8.64e15 + 1)).toThrow(RangeError)
  })
})
