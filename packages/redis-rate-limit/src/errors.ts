/**
 * Redis could not answer a reservation (down, unreachable, too slow, closed). The gate then
 * refuses or passes the request as `rate_limit.failure_mode` says; it never waits on its own.
 */
export class RateLimitUnavailableError extends Error {
  readonly code = 'rate_limit_unavailable'
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'RateLimitUnavailableError'
  }
}
