import { parseRate } from '@aegis/guard'
import { createRedisRateLimiter } from '@aegis/redis-rate-limit'

// Two gates, one budget: both limiters keep "agent:research-bot" in the same Redis.
const url = process.env.AEGIS_REDIS_URL ?? 'redis://127.0.0.1:6379'
const gateA = createRedisRateLimiter({ url, prefix: `example:${process.pid}:` })
const gateB = createRedisRateLimiter({ url, prefix: `example:${process.pid}:` })
try {
  await Promise.all([gateA.waitReady(), gateB.waitReady()])
  const rate = parseRate('2/min')
  const answers = [
    await gateA.reserve('agent:research-bot', rate),
    await gateB.reserve('agent:research-bot', rate),
    await gateA.reserve('agent:research-bot', rate), // the third is refused, whichever gate asks
  ]
  if (answers.map((a) => a.ok).join() !== 'true,true,false') throw new Error('unexpected budget')
  if (answers[2].retryAfterMs > 30_000) throw new Error('the next unit is at most 30 s away')
} finally {
  await Promise.all([gateA.close(), gateB.close()])
}
