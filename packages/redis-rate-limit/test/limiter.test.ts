import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net'
import { parseRate } from '@aegis/guard'
import { createClient } from '@redis/client'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startRelay } from '../../../test-support/tcp-relay.js'
import {
  RateLimitUnavailableError,
  RedisRateLimiter,
  rateLimiterFromConfig,
  redactRedisUrl,
} from '../src/index.js'
import { announceSkip, PrivateRedis, REDIS_URL } from './redis-server.js'

announceSkip('RedisRateLimiter')

const open: RedisRateLimiter[] = []
function limiter(url: string, options: { timeoutMs?: number; prefix?: string } = {}) {
  const errors: Error[] = []
  const made = new RedisRateLimiter({ url, onError: (e) => errors.push(e), ...options })
  open.push(made)
  return Object.assign(made, { errors })
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((l) => l.close()))
})

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 8000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const value = await probe().catch(() => undefined)
    if (value !== undefined) return value
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe.skipIf(REDIS_URL === undefined)('RedisRateLimiter against a shared Redis', () => {
  const url = REDIS_URL as string
  const key = () => `agent:${randomUUID()}`

  it('three gates (three clients) hold one 5/min budget: exactly 5 of 30 concurrent requests pass', async () => {
    const gates = [limiter(url), limiter(url), limiter(url)]
    await Promise.all(gates.map((g) => g.waitReady()))
    const rate = parseRate('5/min')
    const k = key()
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) => (gates[i % 3] as RedisRateLimiter).reserve(k, rate)),
    )
    expect(answers.filter((a) => a.ok)).toHaveLength(5)
    for (const refused of answers.filter((a) => !a.ok)) {
      // The next unit is 12 s away (one emission interval), minus the few ms the burst took.
      expect(refused.ok ? 0 : refused.retryAfterMs).toBeGreaterThan(11_000)
      expect(refused.ok ? 0 : refused.retryAfterMs).toBeLessThanOrEqual(12_000)
    }
  })

  it("decides on the server's clock: the caller's `now` changes nothing", async () => {
    const l = limiter(url)
    await l.waitReady()
    const rate = parseRate('1/hour')
    const k = key()
    expect((await l.reserve(k, rate, 0)).ok).toBe(true)
    // A caller claiming to be a day later would pass with its own clock.
    const later = await l.reserve(k, rate, Date.now() + 86_400_000)
    expect(later.ok).toBe(false)
  })

  it('refund() gives back exactly one unit, once, to every gate', async () => {
    const [a, b] = [limiter(url), limiter(url)]
    await Promise.all([a.waitReady(), b.waitReady()])
    const rate = parseRate('2/hour')
    const k = key()
    const first = await a.reserve(k, rate)
    expect(first.ok).toBe(true)
    expect((await b.reserve(k, rate)).ok).toBe(true)
    expect((await b.reserve(k, rate)).ok).toBe(false)
    if (!first.ok) throw new Error('unreachable')
    first.refund()
    first.refund()
    const back = await until('the refund to land', async () =>
      (await b.reserve(k, rate)).ok ? true : undefined,
    )
    expect(back).toBe(true)
    expect((await a.reserve(k, rate)).ok).toBe(false)
  })

  it('a budget key expires once idle (no key outlives its TAT by more than a ms)', async () => {
    const l = limiter(url, { prefix: `test:${randomUUID()}:` })
    await l.waitReady()
    const k = key()
    expect((await l.reserve(k, parseRate('10/sec'))).ok).toBe(true)
    const client = createClient({ url })
    await client.connect()
    try {
      const keys = await client.keys('test:*')
      const mine = keys.find((name) => name.endsWith(k))
      expect(mine).toBeDefined()
      const ttl = await client.pTTL(mine as string)
      expect(ttl).toBeGreaterThan(0)
      expect(ttl).toBeLessThanOrEqual(101)
    } finally {
      await client.close()
    }
  })

  it('reloads its scripts on a server that forgot them (SCRIPT FLUSH, a restart)', async () => {
    const l = limiter(url)
    await l.waitReady()
    const rate = parseRate('3/min')
    const k = key()
    expect((await l.reserve(k, rate)).ok).toBe(true)
    const client = createClient({ url })
    await client.connect()
    await client.scriptFlush()
    await client.close()
    expect((await l.reserve(k, rate)).ok).toBe(true)
    expect((await l.reserve(k, rate)).ok).toBe(true)
    expect((await l.reserve(k, rate)).ok).toBe(false)
  })

  it('prefixes keep two deployments on one Redis apart', async () => {
    const a = limiter(url, { prefix: `a:${randomUUID()}:` })
    const b = limiter(url, { prefix: `b:${randomUUID()}:` })
    await Promise.all([a.waitReady(), b.waitReady()])
    const rate = parseRate('1/hour')
    expect((await a.reserve('agent:1', rate)).ok).toBe(true)
    expect((await b.reserve('agent:1', rate)).ok).toBe(true)
    expect((await a.reserve('agent:1', rate)).ok).toBe(false)
  })
})

describe.skipIf(REDIS_URL === undefined)('RedisRateLimiter when Redis fails', () => {
  let redis: PrivateRedis
  beforeAll(async () => {
    redis = await PrivateRedis.start()
  })
  afterAll(async () => {
    redis.resume()
    await redis.kill()
  })

  it('rejects at once while Redis is down, and recovers by itself when it is back', async () => {
    const l = limiter(redis.url)
    await l.waitReady()
    const rate = parseRate('100/min')
    expect((await l.reserve('k', rate)).ok).toBe(true)
    await redis.kill()
    const started = Date.now()
    await expect(l.reserve('k', rate)).rejects.toBeInstanceOf(RateLimitUnavailableError)
    expect(Date.now() - started).toBeLessThan(1000)
    expect(l.ready).toBe(false)
    await redis.start()
    const ok = await until('the limiter to reconnect', async () =>
      (await l.reserve('k', rate)).ok ? true : undefined,
    )
    expect(ok).toBe(true)
    expect(l.errors.length).toBeGreaterThan(0)
  })

  it('rejects within its timeout when Redis stops answering (connection open, no reply)', async () => {
    const l = limiter(redis.url, { timeoutMs: 200 })
    await l.waitReady()
    const rate = parseRate('100/min')
    redis.pause()
    try {
      const started = Date.now()
      const error = await l.reserve('k2', rate).then(
        () => null,
        (e: unknown) => e,
      )
      const took = Date.now() - started
      expect(error).toBeInstanceOf(RateLimitUnavailableError)
      expect((error as Error).message).toMatch(/^Redis did not answer/)
      expect(took).toBeGreaterThanOrEqual(190)
      expect(took).toBeLessThan(1500)
    } finally {
      redis.resume()
    }
    expect(
      await until('answers after SIGCONT', async () => ((await l.reserve('k2', rate)).ok ? true : undefined)),
    ).toBe(true)
  })

  it('a connection behind a dead network path (open, silent, no reset) is replaced: budgets are served again without a restart', async () => {
    // Frozen, the open connection leads nowhere while new ones get through.
    const relay = await startRelay(redis.url)
    try {
      const l = limiter(relay.url, { timeoutMs: 100 })
      await l.waitReady()
      const rate = parseRate('100/min')
      expect((await l.reserve('k3', rate)).ok).toBe(true)
      relay.freeze()
      await expect(l.reserve('k3', rate)).rejects.toBeInstanceOf(RateLimitUnavailableError)
      const ok = await until(
        'a reservation on a new connection',
        async () => ((await l.reserve('k3', rate)).ok ? true : undefined),
        5000,
      )
      expect(ok).toBe(true)
      expect(l.errors.some((e) => /answered nothing/.test(e.message))).toBe(true)
    } finally {
      await relay.close()
    }
  })

  it('starts while Redis is unreachable (nothing to connect to) and refuses to vouch for budgets', async () => {
    const l = limiter('redis://127.0.0.1:1')
    await expect(l.reserve('k', parseRate('1/sec'))).rejects.toThrow('Redis is not connected')
    await expect(l.waitReady()).rejects.toBeInstanceOf(RateLimitUnavailableError)
  })

  it('a closed limiter refuses to answer', async () => {
    const l = limiter(redis.url)
    await l.waitReady()
    await l.close()
    await expect(l.reserve('k', parseRate('1/sec'))).rejects.toThrow('closed')
  })
})

describe('RedisRateLimiter against a server that accepts and never answers', () => {
  let server: Server
  const held: Socket[] = []
  beforeAll(async () => {
    server = createServer((socket) => {
      held.push(socket)
      socket.resume() // reads (and ignores) what the client sends, so its end is seen
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
  })
  afterAll(() => {
    for (const socket of held) socket.destroy()
    server.close()
  })
  const url = () => `redis://127.0.0.1:${(server.address() as AddressInfo).port}`

  it('close() gives up on the graceful close after timeoutMs × 4 (at least 1 s) and drops the socket', async () => {
    const l = limiter(url(), { timeoutMs: 100 })
    await expect(l.waitReady()).rejects.toBeInstanceOf(RateLimitUnavailableError)
    expect(held.length).toBeGreaterThan(0)
    const closing = Date.now()
    await l.close()
    expect(Date.now() - closing).toBeLessThan(5000)
    // The server saw its end of the connection go: nothing is left open.
    await until('the socket to close', async () => (held.every((s) => s.closed) ? true : undefined))
    await expect(l.reserve('k', parseRate('1/sec'))).rejects.toThrow('closed')
  })
})

describe('RedisRateLimiter options', () => {
  it.each([0, -1, 1.5, Number.NaN])('refuses timeoutMs %s', (timeoutMs) => {
    expect(() => new RedisRateLimiter({ url: 'redis://127.0.0.1:1', timeoutMs })).toThrow(
      /^timeoutMs must be a whole number of ms above 0/,
    )
  })
})

describe('rateLimiterFromConfig / redactRedisUrl', () => {
  it('opens nothing without rate_limit.redis.url', () => {
    expect(
      rateLimiterFromConfig({ rate_limit: { redis: { timeout_ms: 250, prefix: 'aegis:rate:' } } }),
    ).toBeUndefined()
  })
  it('opens a limiter with the configured timeout and prefix', async () => {
    const l = rateLimiterFromConfig({
      rate_limit: { redis: { url: 'redis://127.0.0.1:1', timeout_ms: 100, prefix: 'x:' } },
    })
    expect(l).toBeInstanceOf(RedisRateLimiter)
    await l?.close()
  })
  it.each([
    ['redis://aegis:s3cr3t-pw@cache:6379/0', 'redis://aegis:***@cache:6379/0'],
    ['rediss://:s3cr3t-pw@cache', 'rediss://:***@cache'],
    ['redis://cache:6379', 'redis://cache:6379'],
    ['not a url s3cr3t-pw', '(unparseable URL)'],
  ])('redacts %s', (url, shown) => {
    expect(redactRedisUrl(url)).toBe(shown)
    expect(redactRedisUrl(url)).not.toContain('s3cr3t-pw')
  })
})
