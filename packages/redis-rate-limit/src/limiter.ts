import { createHash } from 'node:crypto'
import { type Rate, type RateLimitStore, type RateReservation, redactUrlPassword } from '@aegis/guard'
import { createClient } from '@redis/client'
import { RateLimitUnavailableError } from './errors.js'
import { REFUND_SCRIPT, RESERVE_SCRIPT } from './scripts.js'

export interface RedisRateLimiterOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…` (TLS). */
  url: string
  /**
   * How long a reservation may wait for Redis, ms (default 250). Past it the reservation rejects
   * with `RateLimitUnavailableError`; so does every reservation while the connection is down
   * (nothing is queued for later: a queued budget check would let the request wait unbounded).
   */
  timeoutMs?: number
  /** Prepended to every key (default `aegis:rate:`); gates that share budgets use the same one. */
  prefix?: string
  /**
   * Told about connection errors and lost refunds (the host logs them). The client reconnects by
   * itself, with backoff up to 2 s, for as long as the limiter is open.
   */
  onError?: (error: Error) => void
}

/** A node-redis client as the limiter uses it: no offline queue, every command bounded in time. */
function newClient(url: string, timeoutMs: number) {
  return createClient({
    url,
    disableOfflineQueue: true,
    commandOptions: { timeout: timeoutMs, rejectInFlight: true },
    socket: {
      connectTimeout: Math.max(1000, timeoutMs),
      reconnectStrategy: (retries) => Math.min(50 * 2 ** Math.min(retries, 6), 2000),
    },
  })
}

type Client = ReturnType<typeof newClient>

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex')
const RESERVE_SHA = sha1(RESERVE_SCRIPT)
const REFUND_SHA = sha1(REFUND_SCRIPT)

/**
 * Rate limits several gates share: the same GCRA as `@aegis/guard`'s `RateLimiter` (same burst,
 * same interval, same refunds, same test vectors), kept in Redis and decided by one Lua script on
 * the Redis server's clock. A `RateLimitStore`: pass it to the gate as its limiter.
 */
export class RedisRateLimiter implements RateLimitStore {
  #client: Client
  readonly #url: string
  readonly #prefix: string
  readonly #timeoutMs: number
  readonly #onError: (error: Error) => void
  /** Why the connection is not up, for `waitReady`: "did not answer in time" alone hid a wrong password. */
  #lastError: Error | null = null
  #closed = false
  /** When the server last answered a command (or the connection became ready). */
  #lastAnswerAt = Date.now()
  /** How long commands may go unanswered on an open connection before it is replaced. */
  readonly #staleMs: number

  constructor(options: RedisRateLimiterOptions) {
    this.#prefix = options.prefix ?? 'aegis:rate:'
    this.#timeoutMs = options.timeoutMs ?? 250
    if (!Number.isInteger(this.#timeoutMs) || this.#timeoutMs < 1) {
      throw new RangeError(`timeoutMs must be a whole number of ms above 0, got ${String(options.timeoutMs)}`)
    }
    this.#onError = options.onError ?? (() => undefined)
    this.#url = options.url
    this.#staleMs = Math.max(1000, this.#timeoutMs * 4)
    this.#client = this.#connect()
  }

  /**
   * A client for the URL, connecting. The first connection is not awaited: a gate starts while
   * Redis is down, refuses (or passes, as configured) what needs a budget, and recovers once
   * Redis answers.
   */
  #connect(): Client {
    const client = newClient(this.#url, this.#timeoutMs)
    // Without a listener an 'error' event would end the host process.
    client.on('error', (error: unknown) => {
      if (client === this.#client) this.#failed(error)
    })
    client.on('ready', () => {
      if (client !== this.#client) return
      this.#lastError = null
      this.#lastAnswerAt = Date.now()
    })
    client.connect().catch((error: unknown) => {
      if (!this.#closed && client === this.#client) this.#failed(error)
    })
    return client
  }

  /**
   * Replaces a connection that looks open but has answered nothing for `#staleMs` while commands
   * went unanswered: behind a dead network path (a dropped NAT entry, a host gone without a
   * reset) nothing closes it for minutes (TCP keepalive), the client never reconnects, and every
   * request that needs a budget would be refused until then, Redis itself being fine.
   */
  #replaceIfStale(): void {
    if (this.#closed || Date.now() - this.#lastAnswerAt < this.#staleMs) return
    const stale = this.#client
    this.#lastAnswerAt = Date.now()
    this.#client = this.#connect()
    this.#failed(
      new Error(`Redis answered nothing for ${this.#staleMs} ms on an open connection; reconnecting`),
    )
    try {
      stale.destroy()
    } catch {
      // Already torn down: nothing left to drop.
    }
  }

  /** Connected and able to answer now. */
  get ready(): boolean {
    return this.#client.isReady
  }

  #failed(error: unknown): void {
    const e = asError(error)
    this.#lastError = e
    this.#onError(e)
  }

  /**
   * Resolves once connected (or rejects after `timeoutMs` × 4, at least 1 s) — for a host that
   * wants to report the state at start; reservations do not need it. The rejection says why, from
   * the last connection error: a refused login (`loginRefused`), a refused connection, an unknown host.
   */
  async waitReady(): Promise<void> {
    const client = this.#client
    if (client.isReady) return
    const limit = Math.max(1000, this.#timeoutMs * 4)
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        client.off('ready', onReady)
        reject(notReady(this.#lastError, limit))
      }, limit)
      const onReady = () => {
        clearTimeout(timer)
        resolve()
      }
      client.once('ready', onReady)
    })
  }

  /** The server's version (`INFO server`), for `aegis doctor`. */
  async serverVersion(): Promise<string> {
    const info = await this.#call(() => this.#client.info('server'))
    return /redis_version:([^\r\n]+)/.exec(String(info))?.[1] ?? 'unknown'
  }

  /**
   * Spends one unit of `rate` for `key` in Redis (`now` is ignored: the server's clock decides).
   * Rejects with `RateLimitUnavailableError` when Redis does not answer in time or is unreachable.
   */
  async reserve(key: string, rate: Rate, _now?: number): Promise<RateReservation> {
    const name = this.#prefix + key
    const reply = (await this.#script(RESERVE_SHA, RESERVE_SCRIPT, name, [
      String(rate.periodMs),
      String(rate.count),
    ])) as [number, number | string]
    if (!Array.isArray(reply) || reply.length !== 2) {
      throw new RateLimitUnavailableError('Redis answered the rate-limit script with something unexpected')
    }
    if (Number(reply[0]) !== 1) return { ok: false, retryAfterMs: Math.max(1, Number(reply[1])) }
    const since = String(reply[1])
    const interval = String(rate.periodMs / rate.count)
    let refunded = false
    return {
      ok: true,
      refund: () => {
        if (refunded) return
        refunded = true
        // Fire and forget: the request was refused already; a lost refund costs one unit.
        this.#script(REFUND_SHA, REFUND_SCRIPT, name, [interval, since]).catch((error: unknown) =>
          this.#onError(asError(error)),
        )
      },
    }
  }

  /**
   * Disconnects (pending reservations reject). Idempotent. A graceful close waits for Redis to
   * answer what is in flight: a server that accepted the connection and never answers would hold
   * the host's shutdown for ever, so after `timeoutMs` × 4 (at least 1 s) the socket is destroyed.
   */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (!this.#client.isOpen) {
      this.#client.destroy()
      return
    }
    const graceful = this.#client.close().then(
      () => true,
      () => false,
    )
    let timer: NodeJS.Timeout | undefined
    const gaveUp = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), Math.max(1000, this.#timeoutMs * 4))
    })
    const closed = await Promise.race([graceful, gaveUp])
    clearTimeout(timer)
    if (closed) return
    try {
      this.#client.destroy()
    } catch {
      // Already torn down by the close that gave up: nothing left to drop.
    }
  }

  /** EVALSHA, loading the script on a server that does not know it yet (after a restart). */
  async #script(sha: string, source: string, key: string, args: string[]): Promise<unknown> {
    return this.#call(async () => {
      try {
        return await this.#client.evalSha(sha, { keys: [key], arguments: args })
      } catch (error) {
        if (!String((error as Error)?.message).startsWith('NOSCRIPT')) throw error
        return await this.#client.eval(source, { keys: [key], arguments: args })
      }
    })
  }

  async #call<T>(run: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new RateLimitUnavailableError('The Redis rate limiter is closed')
    if (!this.#client.isReady) throw new RateLimitUnavailableError('Redis is not connected')
    try {
      const answer = await run()
      this.#lastAnswerAt = Date.now()
      return answer
    } catch (error) {
      this.#replaceIfStale()
      throw new RateLimitUnavailableError(`Redis did not answer: ${asError(error).message}`, { cause: error })
    }
  }
}

/** Redis's answers to a login it refuses: a wrong password or user (WRONGPASS), none sent (NOAUTH). */
const LOGIN_REFUSED = /^(WRONGPASS|NOAUTH)\b/

function notReady(last: Error | null, limitMs: number): RateLimitUnavailableError {
  if (last === null) return new RateLimitUnavailableError(`Redis did not answer within ${limitMs} ms`)
  if (LOGIN_REFUSED.test(last.message)) {
    return new RateLimitUnavailableError(`Redis refused the login: ${last.message}`, {
      cause: last,
      loginRefused: true,
    })
  }
  return new RateLimitUnavailableError(`Redis did not answer within ${limitMs} ms: ${last.message}`, {
    cause: last,
  })
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error))
}

/** See `RedisRateLimiter`. */
export function createRedisRateLimiter(options: RedisRateLimiterOptions): RedisRateLimiter {
  return new RedisRateLimiter(options)
}

/** The `rate_limit` section of `aegis.config.yaml`, as `@aegis/config` resolves it. */
export interface RateLimitConfig {
  redis: { url?: string | undefined; timeout_ms: number; prefix: string }
}

/**
 * The shared limiter a configuration asks for (`rate_limit.redis.url`), or undefined when it asks
 * for none (each gate then keeps its budgets in memory). The host owns it: close it on shutdown.
 */
export function rateLimiterFromConfig(
  config: { rate_limit: RateLimitConfig },
  onError?: (error: Error) => void,
): RedisRateLimiter | undefined {
  const redis = config.rate_limit.redis
  if (redis.url === undefined) return undefined
  return new RedisRateLimiter({ url: redis.url, timeoutMs: redis.timeout_ms, prefix: redis.prefix, onError })
}

/** `redis://user:***@host:port/db`: a URL fit for logs and messages (its password hidden). */
export function redactRedisUrl(text: string): string {
  return redactUrlPassword(text)
}
