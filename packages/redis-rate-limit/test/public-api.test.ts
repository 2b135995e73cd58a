import { describe, expect, it } from 'vitest'
import * as api from '../src/index.js'

// The public surface is a promise to keep stable. redis-rate-limit is one RateLimitStore: the limiter, its factory and the error it rejects with. A new export must be added here on purpose.
describe('@aegis/redis-rate-limit public API', () => {
  it('exports exactly the documented values', () => {
    expect(Object.keys(api).sort()).toEqual(
      [
        'RateLimitUnavailableError',
        'RedisRateLimiter',
        'createRedisRateLimiter',
        'rateLimiterFromConfig',
        'redactRedisUrl',
      ].sort(),
    )
  })
})
