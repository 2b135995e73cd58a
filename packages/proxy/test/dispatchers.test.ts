import { afterEach, describe, expect, it } from 'vitest'
import { PinnedDispatchers } from '../src/upstream/dispatcher.js'
import type { DialTarget } from '../src/upstream/resolve.js'

const target = (host: string, address = '127.0.0.1', addressPort = 443): DialTarget => ({
  host,
  port: 443,
  address,
  addressPort,
})

let dispatchers: PinnedDispatchers | null = null
afterEach(async () => {
  await dispatchers?.close()
  dispatchers = null
})

describe('PinnedDispatchers', () => {
  it('keeps one pool per host and checked address, whichever object names it', () => {
    dispatchers = new PinnedDispatchers({ connectTimeoutMs: 1000 })
    const a = dispatchers.get(target('a.example'))
    expect(dispatchers.get(target('a.example'))).toBe(a)
    expect(dispatchers.get(target('b.example'))).not.toBe(a)
    expect(dispatchers.get(target('a.example'))).toBe(a)
    // Another address, port or dial port for the same name is another pool.
    expect(dispatchers.get(target('a.example', '127.0.0.2'))).not.toBe(a)
    expect(dispatchers.get(target('a.example', '127.0.0.1', 8443))).not.toBe(a)
    expect(dispatchers.get({ ...target('a.example'), port: 8443 })).not.toBe(a)
    expect(dispatchers.get(target('a.example'))).toBe(a)
  })

  it('closes the least recently used pool beyond maxPools, and the newest stays usable', async () => {
    dispatchers = new PinnedDispatchers({ connectTimeoutMs: 1000, maxPools: 2 })
    const a = dispatchers.get(target('a.example'))
    const b = dispatchers.get(target('b.example'))
    expect(dispatchers.get(target('a.example'))).toBe(a) // a is now the newest
    const c = dispatchers.get(target('c.example')) // b is the oldest: closed
    expect(b.closed).toBe(true)
    expect(a.closed).toBe(false)
    expect(dispatchers.get(target('c.example'))).toBe(c)
    expect(dispatchers.get(target('a.example'))).toBe(a)
    const b2 = dispatchers.get(target('b.example')) // c is the oldest now
    expect(b2).not.toBe(b)
    expect(c.closed).toBe(true)
    expect(dispatchers.get(target('b.example'))).toBe(b2)
  })

  it('makes new pools after close', async () => {
    dispatchers = new PinnedDispatchers({ connectTimeoutMs: 1000 })
    const a = dispatchers.get(target('a.example'))
    await dispatchers.close()
    expect(a.closed).toBe(true)
    const again = dispatchers.get(target('a.example'))
    expect(again).not.toBe(a)
    expect(again.closed).toBe(false)
  })
})
