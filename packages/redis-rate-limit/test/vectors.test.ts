import { randomUUID } from 'node:crypto'
import { parseRate } from '@aegis/guard'
import { createClient } from '@redis/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
// The same file the in-process RateLimiter is tested with (packages/guard/test/rate.test.ts).
import { expandSteps, gcraVectors } from '../../guard/test/vectors/gcra.js'
import { REFUND_SCRIPT, RESERVE_SCRIPT } from '../src/scripts.js'
import { announceSkip, REDIS_URL } from './redis-server.js'

announceSkip('GCRA vectors on Redis')

/**
 * The Lua scripts replay the shared vectors at fixed times (their optional `now` argument; the
 * limiter never passes one and the server's clock decides — see limiter.test.ts).
 */
describe.skipIf(REDIS_URL === undefined)('the Redis scripts pass the shared GCRA vectors', () => {
  const client = createClient({ url: REDIS_URL })
  const T0 = 1_800_000_000_000
  beforeAll(async () => {
    await client.connect()
  })
  afterAll(async () => {
    await client.close()
  })

  it.each(gcraVectors.cases.map((c) => [c.name, c] as const))('%s', async (_name, vector) => {
    const prefix = `test:${randomUUID()}:`
    const made: ({ key: string; interval: string; since: string } | null)[] = []
    // Once per reservation, as `RedisRateLimiter`'s refund() does it (the script is not idempotent).
    const refunded = new Set<number>()
    for (const [i, step] of expandSteps(vector).entries()) {
      if ('refund' in step) {
        const spent = made[step.refund]
        if (!spent) throw new Error(`step ${i} refunds step ${step.refund}, which was not a reservation`)
        if (refunded.has(step.refund)) continue
        refunded.add(step.refund)
        await client.eval(REFUND_SCRIPT, { keys: [spent.key], arguments: [spent.interval, spent.since] })
        continue
      }
      const rate = parseRate(step.rate)
      const key = prefix + step.key
      const [ok, value] = (await client.eval(RESERVE_SCRIPT, {
        keys: [key],
        arguments: [String(rate.periodMs), String(rate.count), String(T0 + step.at)],
      })) as [number, number | string]
      made[i] = ok === 1 ? { key, interval: String(rate.periodMs / rate.count), since: String(value) } : null
      expect(ok === 1 ? 'ok' : { retryAfterMs: value }, `step ${i}`).toEqual(step.expect)
    }
  })
})
