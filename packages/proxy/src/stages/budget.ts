import { type Rate, type RateLimitStore, type RateReservation, rateLimited, refuse } from '@aegis/guard'
import type { RequestContext } from '../context.js'
import type { RateLimitScope, RequestObserver } from '../observer.js'
import type { StageResult } from '../types.js'

/**
 * Epoch milliseconds that never go back. Budgets measure intervals: on the wall clock a step back
 * (an NTP correction, a VM resumed from a snapshot) left every budget's arrival time in the future,
 * and a `2/min` budget refused everything for the whole size of the step. A shared store keeps its
 * own clock and ignores this one.
 */
const monotonicNow = (): number => performance.timeOrigin + performance.now()

/** What a request needing a budget gets when the store cannot answer (`rate_limit.failure_mode`). */
export type RateLimitFailureMode = 'closed' | 'open'

/**
 * Takes one unit of a budget for a request: the one place the agent, credential and policy stages
 * spend, refuse, and decide what an unreachable store means. With the in-process limiter it never
 * waits; a shared store (Redis) answers later and may reject, which `closed` turns into a
 * `rate_limit_unavailable` refusal and `open` into a pass without that limit. Either way the
 * observer is told.
 */
export class Budgets {
  constructor(
    private readonly store: RateLimitStore,
    private readonly failureMode: RateLimitFailureMode,
    private readonly observer: RequestObserver | undefined,
  ) {}

  /**
   * Spends one unit of `rate` under `key`. `limited` names the limit in the refusal detail
   * ("Agent "x" is limited to 5/min"). On success the unit is given back if a later stage refuses.
   */
  take(
    ctx: RequestContext,
    scope: RateLimitScope,
    key: string,
    rate: Rate,
    limited: string,
  ): StageResult | Promise<StageResult> {
    let answer: RateReservation | Promise<RateReservation>
    try {
      answer = this.store.reserve(key, rate, monotonicNow())
    } catch {
      return this.#unavailable(ctx, scope)
    }
    if (!(answer instanceof Promise)) return this.#spent(ctx, scope, answer, rate, limited)
    return answer.then(
      (reservation) => this.#spent(ctx, scope, reservation, rate, limited),
      () => this.#unavailable(ctx, scope),
    )
  }

  #spent(
    ctx: RequestContext,
    scope: RateLimitScope,
    reservation: RateReservation,
    rate: Rate,
    limited: string,
  ): StageResult {
    if (reservation.ok) {
      ctx.refunds.push(reservation.refund)
      return undefined
    }
    ctx.rateLimit = scope
    return rateLimited(limited, reservation.retryAfterMs, rate.text)
  }

  #unavailable(ctx: RequestContext, scope: RateLimitScope): StageResult {
    const passed = this.failureMode === 'open'
    this.observer?.rateLimitUnavailable?.(scope, passed)
    if (passed) return undefined
    ctx.rateLimit = scope
    return refuse(
      'rate_limit_unavailable',
      `The shared rate limits could not be checked (${scope} limit), so nothing was forwarded`,
    )
  }
}
