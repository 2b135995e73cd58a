import type { AegisConfig } from '@aegis/config'
import type { RedisRateLimiter } from '@aegis/redis-rate-limit'
import { throttledWarn } from './throttled-log.js'

interface WarnLogger {
  warn(obj: object, msg?: string): void
}

/**
 * The budgets store `rate_limit.redis.url` asks for, shared by every gate and MCP server that
 * names the same Redis and prefix; undefined without a URL (budgets stay in this process). Its
 * errors go to the log, at most one line per 10 s. The caller closes it on shutdown.
 */
export async function openSharedLimits(
  config: AegisConfig,
  logger: WarnLogger,
): Promise<RedisRateLimiter | undefined> {
  if (config.rate_limit.redis.url === undefined) return undefined
  // The Redis client (hundreds of modules, OpenTelemetry) loads only when a Redis is configured.
  const { rateLimiterFromConfig, redactRedisUrl } = await import('@aegis/redis-rate-limit')
  return rateLimiterFromConfig(
    config,
    throttledWarn(logger, 'shared rate limits: Redis error', {
      redis: redactRedisUrl(config.rate_limit.redis.url ?? ''),
    }),
  )
}

/**
 * What to tell the operator at start: where budgets live, and — when Redis does not answer within
 * a second — what requests needing one get until it does.
 */
export async function describeSharedLimits(
  limiter: RedisRateLimiter | undefined,
  config: AegisConfig,
): Promise<{ info: string; warning: string | null } | null> {
  if (limiter === undefined) return null
  const { redactRedisUrl } = await import('@aegis/redis-rate-limit')
  const where = redactRedisUrl(config.rate_limit.redis.url ?? '')
  const mode = config.rate_limit.failure_mode
  const info = `Rate limits shared through Redis at ${where} (prefix "${config.rate_limit.redis.prefix}", failure mode ${mode})`
  const ready = await limiter.waitReady().then(
    () => true,
    () => false,
  )
  if (ready) return { info, warning: null }
  const meanwhile =
    mode === 'closed'
      ? 'requests that need a rate budget are refused (503 rate_limit_unavailable)'
      : 'requests that need a rate budget pass without it (rate_limit.failure_mode open)'
  return { info, warning: `Redis at ${where} does not answer yet: until it does, ${meanwhile}` }
}
