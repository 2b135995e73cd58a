/**
 * @aegis/redis-rate-limit — the gate's GCRA budgets kept in Redis, so several gates hold one limit.
 * A `RateLimitStore` of `@aegis/guard`: same semantics and test vectors as the in-process limiter.
 */
export { RateLimitUnavailableError } from './errors.js'
export {
  createRedisRateLimiter,
  type RateLimitConfig,
  RedisRateLimiter,
  type RedisRateLimiterOptions,
  rateLimiterFromConfig,
  redactRedisUrl,
} from './limiter.js'
