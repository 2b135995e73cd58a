import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { send } from './fixtures/client.js'
import { type Harness, startHarness } from './fixtures/harness.js'

/**
 * Budgets are spent on a clock that only moves forward. On the wall clock, a step back (an NTP
 * correction, a VM resumed from a snapshot, an operator fixing the date) left every budget's
 * theoretical arrival time in the future: a 2/min credential refused everything for the whole
 * size of the step (an hour, with `Retry-After: 3630`) although nothing had been sent.
 */
describe('rate budgets and a wall clock that steps back', () => {
  let h: Harness

  beforeAll(async () => {
    h = await startHarness()
    h.add({ name: 'limited', service: 'limited', secret: 'sk-limited-secret-0001', rateLimit: '2/min' })
  })
  afterAll(async () => {
    vi.useRealTimers()
    await h.close()
  })

  it('keep their rate: the next request waits at most one interval, not the size of the step', async () => {
    expect((await send(h.port, '/limited/a')).status).toBe(200)
    expect((await send(h.port, '/limited/b')).status).toBe(200)
    const limited = await send(h.port, '/limited/c')
    expect(limited.status).toBe(429)
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(30)

    // The wall clock steps back one hour; real time (timers, the monotonic clock) goes on.
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true })
    vi.setSystemTime(Date.now() - 3_600_000)
    const after = await send(h.port, '/limited/d')
    expect(after.status).toBe(429)
    expect(Number(after.headers['retry-after'])).toBeLessThanOrEqual(30)
  })
})
