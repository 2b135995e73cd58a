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
  const failure = await limiter.waitReady().then(
    () => null,
    (error: unknown) => error,
  )
  if (failure === null) return { info, warning: null }
  const meanwhile =
    mode === 'closed'
      ? 'requests that need a rate budget are refused (503 rate_limit_unavailable)'
      : 'requests that need a rate budget pass without it (rate_limit.failure_mode open)'
  if (loginRefused(failure)) {
    return { info, warning: `Redis at ${where} ${redisTrouble(failure)}; until then, ${meanwhile}` }
  }
  return { info, warning: `Redis at ${where} does not answer yet: until it does, ${meanwhile}` }
}

function loginRefused(error: unknown): boolean {
  return (error as { loginRefused?: unknown } | null)?.loginRefused === true
}

/**
 * What is wrong with a Redis that `waitReady` gave up on, after "Redis at <url>": a refused login
 * names the keys holding the password (never the password); anything else is the connection error.
 */
export function redisTrouble(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  if (loginRefused(error)) {
    const cause = (error as Error).cause
    const why = cause instanceof Error ? cause.message : message
    return `refused the login (${why}): check the user and password in AEGIS_REDIS_URL or rate_limit.redis.url`
  }
  return `does not answer (${message})`
}
