import { createServer as createNetServer } from 'node:net'
import { RedisRateLimiter } from '@aegis/redis-rate-limit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { send } from './fixtures/client.js'
import { type Harness, startHarness } from './fixtures/harness.js'

/**
 * Every 429 and 503 the gate answers says when to try again (`Retry-After`, whole seconds, and the
 * same number as the problem's `retryAfter`). Here: `rate_limit_unavailable`, from a real Redis
 * limiter whose server is not there (a port nothing listens on); sealed, draining, the ledger and
 * damaged rows are asserted where those states are set up (sealed, lifecycle, unavailable tests).
 */

/** A local port that refuses connections: bound, then closed again. */
async function deadPort(): Promise<number> {
  const server = createNetServer().listen(0, '127.0.0.1')
  await new Promise((r) => server.once('listening', r))
  const { port } = server.address() as import('node:net').AddressInfo
  await new Promise((r) => server.close(r))
  return port
}

let h: Harness
let limiter: RedisRateLimiter
let headers: Record<string, string>
beforeAll(async () => {
  limiter = new RedisRateLimiter({ url: `redis://127.0.0.1:${await deadPort()}`, timeoutMs: 100 })
  h = await startHarness({ gate: { rateLimits: { store: limiter, failureMode: 'closed' } } })
  h.add({ name: 'gh', service: 'github', secret: 'ghp_retry_after_secret_0001' })
  const { token } = h.vault.addAgent({ name: 'metered', rateLimit: '10/min' })
  h.vault.grant('metered', 'gh')
  h.gate.refresh()
  headers = { 'X-Aegis-Agent': token }
})
afterAll(async () => {
  await h.close()
  await limiter.close()
})

describe('Retry-After on every 429/503', () => {
  it('503 rate_limit_unavailable (the shared budgets cannot be checked) carries one, and nothing is forwarded', async () => {
    const reply = await send(h.port, '/github/user', { headers })
    expect(reply.status).toBe(503)
    expect(reply.headers['x-aegis-block']).toBe('rate_limit_unavailable')
    expect(reply.headers['retry-after']).toBe('2')
    expect(reply.json()).toMatchObject({ code: 'rate_limit_unavailable', retryAfter: 2 })
    expect(h.upstream.received).toHaveLength(0)
  })
})
