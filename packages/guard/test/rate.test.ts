import { describe, expect, it } from 'vitest'
import { parseRate, type Rate, RateLimiter, type RateReservation } from '../src/index.js'
import { expandSteps, gcraVectors } from './vectors/gcra.js'

describe('parseRate', () => {
  const good: [text: string, count: number, periodMs: number, canonical: string][] = [
    ['100/min', 100, 60_000, '100/min'],
    ['10/sec', 10, 1_000, '10/sec'],
    ['10/second', 10, 1_000, '10/sec'],
    ['10/s', 10, 1_000, '10/sec'],
    ['5/minute', 5, 60_000, '5/min'],
    ['5/m', 5, 60_000, '5/min'],
    ['1000/hour', 1000, 3_600_000, '1000/hour'],
    ['1000/hr', 1000, 3_600_000, '1000/hour'],
    ['1000/h', 1000, 3_600_000, '1000/hour'],
    ['7/day', 7, 86_400_000, '7/day'],
    ['7/d', 7, 86_400_000, '7/day'],
    ['  50/min  ', 50, 60_000, '50/min'],
    ['50 / MIN', 50, 60_000, '50/min'],
    ['1/sec', 1, 1_000, '1/sec'],
    ['1000000000/day', 1e9, 86_400_000, '1000000000/day'],
  ]
  it.each(good)('%j', (text, count, periodMs, canonical) => {
    expect(parseRate(text)).toEqual({ count, periodMs, text: canonical })
  })

  const bad = [
    '',
    'abc',
    '100',
    '/min',
    '0/min',
    '-1/min',
    '+5/min',
    '1.5/min',
    '1e3/min',
    '05/min',
    '1000000001/min',
    '99999999999/min',
    '10/week',
    '10/minutes',
    '10/ms',
    '10 per min',
    '10/min/x',
    '10//min',
    'Infinity/min',
    'NaN/min',
  ]
  it.each(bad)('%j throws a clear error', (text) => {
    expect(() => parseRate(text)).toThrow(
      `Invalid rate "${text}": expected N/sec, N/min, N/hour or N/day (N from 1 to 1e9)`,
    )
  })
})

/** Makes `n` reservations at `now`; returns how many passed. */
function spend(limiter: RateLimiter, key: string, rate: Rate, now: number, n: number): number {
  let passed = 0
  for (let i = 0; i < n; i++) if (limiter.reserve(key, rate, now).ok) passed++
  return passed
}

/** Whether one more request would fit, without keeping it spent. */
function fits(limiter: RateLimiter, key: string, rate: Rate, now: number): boolean {
  const r = limiter.reserve(key, rate, now)
  if (r.ok) r.refund()
  return r.ok
}

describe('RateLimiter (GCRA)', () => {
  const tenPerSec = parseRate('10/sec')

  it('allows a burst of exactly count, then refuses', () => {
    const limiter = new RateLimiter()
    expect(spend(limiter, 'k', tenPerSec, 0, 15)).toBe(10)
  })

  it('gives the exact retryAfter: one emission interval after a full burst', () => {
    const limiter = new RateLimiter()
    spend(limiter, 'k', tenPerSec, 1_000, 10)
    expect(limiter.reserve('k', tenPerSec, 1_000)).toEqual({ ok: false, retryAfterMs: 100 })
    expect(limiter.reserve('k', tenPerSec, 1_040)).toEqual({ ok: false, retryAfterMs: 60 })
    expect(fits(limiter, 'k', tenPerSec, 1_099)).toBe(false)
    expect(fits(limiter, 'k', tenPerSec, 1_100)).toBe(true)
  })

  it('rounds a fractional retryAfter up to whole milliseconds', () => {
    const limiter = new RateLimiter()
    const threePerSec = parseRate('3/sec')
    spend(limiter, 'k', threePerSec, 0, 3)
    expect(limiter.reserve('k', threePerSec, 0)).toEqual({ ok: false, retryAfterMs: 334 })
  })

  it('sustains the steady rate: one request per interval passes forever', () => {
    const limiter = new RateLimiter()
    spend(limiter, 'k', tenPerSec, 0, 10)
    for (let t = 100; t <= 5_000; t += 100) {
      expect(spend(limiter, 'k', tenPerSec, t, 2)).toBe(1)
    }
  })

  it('refills the full burst after a full period of idleness', () => {
    const limiter = new RateLimiter()
    spend(limiter, 'k', tenPerSec, 0, 10)
    expect(spend(limiter, 'k', tenPerSec, 1_000, 20)).toBe(10)
    expect(spend(limiter, 'k', tenPerSec, 1_500, 20)).toBe(5)
  })

  it('a reservation spends at once: a second one cannot pass on the same last unit', () => {
    const limiter = new RateLimiter()
    const onePerMin = parseRate('1/min')
    const a = limiter.reserve('k', onePerMin, 0)
    const b = limiter.reserve('k', onePerMin, 0)
    expect(a.ok).toBe(true)
    expect(b).toEqual({ ok: false, retryAfterMs: 60_000 })
  })

  it('a refund gives back exactly its own reservation, once', () => {
    const limiter = new RateLimiter()
    const twoPerMin = parseRate('2/min')
    const a = limiter.reserve('k', twoPerMin, 0)
    const b = limiter.reserve('k', twoPerMin, 0)
    expect(limiter.reserve('k', twoPerMin, 0).ok).toBe(false)
    if (!a.ok || !b.ok) throw new Error('both should pass')
    a.refund()
    a.refund() // a second refund of the same reservation gives nothing more
    expect(limiter.reserve('k', twoPerMin, 0).ok).toBe(true)
    expect(limiter.reserve('k', twoPerMin, 0).ok).toBe(false)
  })

  it('refunding every reservation leaves the key as if nothing happened', () => {
    const limiter = new RateLimiter()
    const onePerMin = parseRate('1/min')
    for (let i = 0; i < 100; i++) expect(fits(limiter, 'k', onePerMin, 0)).toBe(true)
    expect(spend(limiter, 'k', onePerMin, 0, 5)).toBe(1)
  })

  it('a refund after the key went idle gives back nothing (its unit has already drained)', () => {
    const limiter = new RateLimiter()
    const onePerSec = parseRate('1/sec')
    const late = limiter.reserve('k', onePerSec, 0)
    // The key is idle at 5 s; a new request spends there, then the old one is refunded.
    expect(limiter.reserve('k', onePerSec, 5_000).ok).toBe(true)
    if (late.ok) late.refund()
    expect(limiter.reserve('k', onePerSec, 5_000).ok).toBe(false)
  })

  it('a refund after the key was evicted does not touch a new key of that name', () => {
    const limiter = new RateLimiter({ maxKeys: 1 })
    const onePerMin = parseRate('1/min')
    const old = limiter.reserve('a', onePerMin, 0)
    spend(limiter, 'b', onePerMin, 0, 1) // evicts 'a'
    expect(limiter.reserve('a', onePerMin, 0).ok).toBe(true) // a fresh 'a'
    if (old.ok) old.refund()
    expect(limiter.reserve('a', onePerMin, 0).ok).toBe(false)
  })

  it('refused requests do not spend budget (no penalty for hammering)', () => {
    const limiter = new RateLimiter()
    spend(limiter, 'k', tenPerSec, 0, 10)
    expect(spend(limiter, 'k', tenPerSec, 50, 1_000)).toBe(0)
    expect(fits(limiter, 'k', tenPerSec, 100)).toBe(true)
  })

  it('keeps keys independent, each with its own rate', () => {
    const limiter = new RateLimiter()
    const onePerSec = parseRate('1/sec')
    expect(spend(limiter, 'agent:a', tenPerSec, 0, 20)).toBe(10)
    expect(spend(limiter, 'agent:b', onePerSec, 0, 20)).toBe(1)
    expect(spend(limiter, 'cred:x', parseRate('100/min'), 0, 200)).toBe(100)
  })

  it('stays within maxKeys, evicting the least recently committed key', () => {
    const limiter = new RateLimiter({ maxKeys: 3 })
    const onePerMin = parseRate('1/min')
    for (const key of ['a', 'b', 'c']) spend(limiter, key, onePerMin, 0, 1)
    expect(limiter.size).toBe(3)
    spend(limiter, 'd', onePerMin, 0, 1)
    expect(limiter.size).toBe(3)
    // 'a' was evicted and its budget forgotten; 'b', 'c', 'd' are still limited.
    for (const key of ['b', 'c', 'd']) expect(fits(limiter, key, onePerMin, 0)).toBe(false)
    expect(fits(limiter, 'a', onePerMin, 0)).toBe(true)
    for (let i = 0; i < 1_000; i++) spend(limiter, `k${i}`, onePerMin, 0, 1)
    expect(limiter.size).toBe(3)
  })

  it('a recently committed key is not the one evicted', () => {
    const limiter = new RateLimiter({ maxKeys: 2 })
    const twoPerMin = parseRate('2/min')
    spend(limiter, 'a', twoPerMin, 0, 1)
    spend(limiter, 'b', twoPerMin, 0, 1)
    spend(limiter, 'a', twoPerMin, 0, 1) // touches 'a'
    spend(limiter, 'c', twoPerMin, 0, 1) // evicts 'b'
    expect(fits(limiter, 'a', twoPerMin, 0)).toBe(false)
    expect(spend(limiter, 'b', twoPerMin, 0, 5)).toBe(2)
  })

  it('drops idle keys on the way, without waiting for the bound', () => {
    const limiter = new RateLimiter()
    const onePerSec = parseRate('1/sec')
    spend(limiter, 'a', onePerSec, 0, 1)
    spend(limiter, 'b', onePerSec, 10_000, 1) // 'a' is idle by now
    expect(limiter.size).toBe(1)
  })

  it('reset forgets one key or all', () => {
    const limiter = new RateLimiter()
    const onePerMin = parseRate('1/min')
    spend(limiter, 'a', onePerMin, 0, 1)
    spend(limiter, 'b', onePerMin, 0, 1)
    limiter.reset('a')
    expect(fits(limiter, 'a', onePerMin, 0)).toBe(true)
    expect(fits(limiter, 'b', onePerMin, 0)).toBe(false)
    limiter.reset()
    expect(limiter.size).toBe(0)
    expect(fits(limiter, 'b', onePerMin, 0)).toBe(true)
  })

  it.each([0, -1, 1.5, Number.NaN])('refuses maxKeys %s', (maxKeys) => {
    expect(() => new RateLimiter({ maxKeys })).toThrow(/Invalid maxKeys/)
  })
})

/** The vectors every rate-limit store must pass; `@aegis/redis-rate-limit` runs the same file. */
describe('RateLimiter passes the shared GCRA vectors (test/vectors/gcra.ts)', () => {
  const T0 = 1_800_000_000_000
  it.each(gcraVectors.cases.map((c) => [c.name, c] as const))('%s', (_name, vector) => {
    const limiter = new RateLimiter()
    const made: (RateReservation | undefined)[] = []
    for (const [i, step] of expandSteps(vector).entries()) {
      if ('refund' in step) {
        const made0 = made[step.refund]
        if (!made0?.ok) throw new Error(`step ${i} refunds step ${step.refund}, which was not a reservation`)
        made0.refund()
        continue
      }
      const got = limiter.reserve(step.key, parseRate(step.rate), T0 + step.at)
      made[i] = got
      expect(got.ok ? 'ok' : { retryAfterMs: got.retryAfterMs }, `step ${i}`).toEqual(step.expect)
    }
  })
})
