/**
 * Redis could not answer a reservation (down, unreachable, too slow, closed). The gate then
 * refuses or passes the request as `rate_limit.failure_mode` says; it never waits on its own.
 */
export class RateLimitUnavailableError extends Error {
  readonly code = 'rate_limit_unavailable'
  /** Redis answered, but refused the login (WRONGPASS, NOAUTH): the URL's user or password is wrong. */
  readonly loginRefused: boolean
  constructor(message: string, options?: ErrorOptions & { loginRefused?: boolean }) {
    super(message, options)
    this.name = 'RateLimitUnavailableError'
    this.loginRefused = options?.loginRefused === true
  }
}
