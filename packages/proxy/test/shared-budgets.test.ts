import { randomUUID } from 'node:crypto'
import { RedisRateLimiter } from '@aegis/redis-rate-limit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PrivateRedis } from '../../redis-rate-limit/test/redis-server.js'
import {
  pipelineOptionsFromConfig,
  type RateLimitScope,
  type RequestObserver,
  SILENT_LOGGER,
} from '../src/index.js'
import { send } from './fixtures/client.js'
import { startHarness } from './fixtures/harness.js'

/**
 * Budgets in a store several gates share (a real Redis, through @aegis/redis-rate-limit): one
 * limit across gates, and what a request needing a budget gets while Redis is gone
 * (`rateLimits.failureMode`). The stages take the same path as with the in-process limiter.
 */

const REDIS = process.env.AEGIS_REDIS_URL
if (REDIS === undefined) {
  process.stderr.write('SKIPPED shared budgets on Redis: AEGIS_REDIS_URL is not set (scripts/services.sh)\n')
}

/** Counts what the pipeline tells an observer about an unreachable store. */
function watcher() {
  const unavailable: Array<[RateLimitScope, boolean]> = []
  const observer: RequestObserver = {
    requestStarted() {},
    requestEnded() {},
    ledgerWriteFailed() {},
    snapshotChanged() {},
    rateLimitUnavailable(scope, passed) {
      unavailable.push([scope, passed])
    },
  }
  return { observer, unavailable }
}

describe.skipIf(REDIS === undefined)('budgets shared through Redis', () => {
  let redis: PrivateRedis
  const open: Array<{ close(): Promise<void> }> = []
  beforeAll(async () => {
    redis = await PrivateRedis.start()
  })
  afterAll(async () => {
    for (const item of open.reverse()) await item.close()
    redis.resume()
    await redis.kill()
  })

  async function gatePair(failureMode: 'closed' | 'open') {
    const prefix = `test:${randomUUID()}:`
    const limiters = [0, 1].map(() => new RedisRateLimiter({ url: redis.url, prefix, timeoutMs: 200 }))
    await Promise.all(limiters.map((l) => l.waitReady()))
    const watch = watcher()
    const a = await startHarness({
      gate: { rateLimits: { store: limiters[0], failureMode }, observer: watch.observer },
    })
    // Gate B serves gate A's vault: the same credential and agent ids, so the same budget keys.
    const b = await startHarness({
      source: () => a.vault,
      gate: { rateLimits: { store: limiters[1], failureMode }, observer: watch.observer },
    })
    open.push(...limiters, a, b)
    a.add({ name: 'gh', service: 'github', secret: 'ghp_shared_budget_secret_0001' })
    a.add({ name: 'metered', service: 'metered', secret: 'metered_budget_secret_0001', rateLimit: '3/min' })
    b.gate.refresh()
    const agent = (name: string, limits: { rateLimit?: string; maxInFlight?: number } = {}) => {
      const { token } = a.vault.addAgent({ name, ...limits })
      for (const c of ['gh', 'metered']) a.vault.grant(name, c)
      a.gate.refresh()
      b.gate.refresh()
      return { 'X-Aegis-Agent': token }
    }
    return { a, b, agent, watch }
  }

  it('two gates hold one 4/min agent limit: 4 of 12 requests spread over both pass', async () => {
    const { a, b, agent } = await gatePair('closed')
    const headers = agent('bot-4', { rateLimit: '4/min' })
    const before = a.upstream.received.length + b.upstream.received.length
    const replies = await Promise.all(
      Array.from({ length: 12 }, (_, i) => send(i % 2 === 0 ? a.port : b.port, '/github/user', { headers })),
    )
    expect(replies.filter((r) => r.status === 200)).toHaveLength(4)
    const limited = replies.filter((r) => r.status === 429)
    expect(limited).toHaveLength(8)
    for (const r of limited) expect(r.headers['x-aegis-block']).toBe('rate_limited')
    expect(a.upstream.received.length + b.upstream.received.length - before).toBe(4)
  })

  it('a credential limit holds across both gates too', async () => {
    const { a, b, agent } = await gatePair('closed')
    const headers = agent('bot-c')
    const statuses = []
    for (let i = 0; i < 6; i++)
      statuses.push((await send(i % 2 ? a.port : b.port, '/metered/x', { headers })).status)
    expect(statuses.filter((s) => s === 200)).toHaveLength(3)
  })

  it('closed: while Redis is down a request that needs a budget is refused 503 rate_limit_unavailable, recorded, never forwarded; the gate recovers alone', async () => {
    const { a, agent, watch } = await gatePair('closed')
    const limitedHeaders = agent('bot-down', { rateLimit: '100/min', maxInFlight: 1 })
    const freeHeaders = agent('bot-free')
    expect((await send(a.port, '/github/user', { headers: limitedHeaders })).status).toBe(200)
    await redis.kill()
    try {
      const before = a.upstream.received.length
      for (let i = 0; i < 3; i++) {
        const reply = await send(a.port, '/github/user', { headers: limitedHeaders })
        expect(reply.status).toBe(503)
        expect(reply.headers['x-aegis-block']).toBe('rate_limit_unavailable')
        expect(reply.json<{ detail: string }>().detail).toContain('agent limit')
      }
      // No budget needed (no agent rate, no credential rate): served as usual.
      expect((await send(a.port, '/github/user', { headers: freeHeaders })).status).toBe(200)
      expect(a.upstream.received.length - before).toBe(1)
      await a.ledger.flush()
      const rows = a.ledger.query({ agent: 'bot-down', limit: 10 })
      expect(
        rows.filter((r) => r.code === 'rate_limit_unavailable' && r.decision === 'blocked'),
      ).toHaveLength(3)
      expect(watch.unavailable).toEqual([
        ['agent', false],
        ['agent', false],
        ['agent', false],
      ])
    } finally {
      await redis.start()
    }
    // Back: the in-flight slot of every refused request was given back (cap 1), budgets apply again.
    const deadline = Date.now() + 8000
    let status = 0
    while (Date.now() < deadline) {
      status = (await send(a.port, '/github/user', { headers: limitedHeaders })).status
      if (status === 200) break
      await new Promise((r) => setTimeout(r, 100))
    }
    expect(status).toBe(200)
  })

  it('open: while Redis is down the request goes on without that limit, and the observer is told', async () => {
    const { a, agent, watch } = await gatePair('open')
    const headers = agent('bot-open', { rateLimit: '1/min' })
    expect((await send(a.port, '/github/user', { headers })).status).toBe(200)
    expect((await send(a.port, '/github/user', { headers })).status).toBe(429)
    await redis.kill()
    try {
      expect((await send(a.port, '/github/user', { headers })).status).toBe(200)
      expect((await send(a.port, '/metered/x', { headers })).status).toBe(200)
      expect(watch.unavailable).toEqual([
        ['agent', true],
        ['agent', true],
        ['credential', true],
      ])
    } finally {
      await redis.start()
    }
  })

  it('closed: Redis that stops answering (SIGSTOP) costs at most the timeout, then 503', async () => {
    const { a, agent } = await gatePair('closed')
    const headers = agent('bot-stopped', { rateLimit: '100/min' })
    expect((await send(a.port, '/github/user', { headers })).status).toBe(200)
    redis.pause()
    try {
      const started = Date.now()
      const reply = await send(a.port, '/github/user', { headers })
      expect(reply.status).toBe(503)
      expect(reply.headers['x-aegis-block']).toBe('rate_limit_unavailable')
      expect(Date.now() - started).toBeLessThan(2000)
    } finally {
      redis.resume()
    }
  })
})

describe('rate_limit.failure_mode from the configuration', () => {
  const gate = {
    max_body_size: 1024,
    request_timeout: 700,
    require_agent_auth: false,
    policy_mode: 'off' as const,
    policy_default: 'allow' as const,
    upstream: { ca_file: [], resolve: [], allow_private: [] },
  }
  const deps = {
    credentials: { loadAll: () => [], changeToken: () => '1' },
    audit: { append: async () => 1, complete: () => {}, system: async () => 1 },
    logger: SILENT_LOGGER,
  }
  it.each(['closed', 'open'] as const)(
    '%s becomes rateLimits.failureMode (the store is the host’s)',
    (mode) => {
      const options = pipelineOptionsFromConfig({ gate, rate_limit: { failure_mode: mode } }, deps)
      expect(options.rateLimits).toEqual({ failureMode: mode })
    },
  )
  it('without the section nothing is set (the pipeline then fails closed)', () => {
    expect(pipelineOptionsFromConfig({ gate }, deps).rateLimits).toBeUndefined()
  })
})
