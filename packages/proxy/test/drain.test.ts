import { describe, expect, it } from 'vitest'
import { Drain } from '../src/drain.js'

describe('Drain', () => {
  it('idle() waits for the last piece of work, not the first', async () => {
    const drain = new Drain()
    drain.enter()
    drain.enter()
    let idle = false
    const waiting = drain.idle().then(() => {
      idle = true
    })
    drain.leave()
    await Promise.resolve()
    expect(idle).toBe(false)
    drain.leave()
    await waiting
    expect(idle).toBe(true)
    expect(drain.inFlight).toBe(0)
  })

  it('track() counts a call that throws as finished', async () => {
    const drain = new Drain()
    await expect(drain.track(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom')
    expect(drain.inFlight).toBe(0)
  })

  it('close() refuses new work at once and returns when running work ends', async () => {
    const drain = new Drain()
    let finish = () => {}
    const running = drain.track(() => new Promise<void>((resolve) => (finish = resolve)))
    const closed = drain.close(60_000)
    expect(drain.closing).toBe(true)
    finish()
    await running
    await closed
  })

  it('close() gives up after its timeout when work never ends', async () => {
    const drain = new Drain()
    drain.enter()
    const started = Date.now()
    await drain.close(20)
    expect(Date.now() - started).toBeGreaterThanOrEqual(15)
    expect(drain.inFlight).toBe(1)
  })
})
