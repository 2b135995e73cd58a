import type { Snapshot } from './snapshot.js'
import type { Channel } from './types.js'

/** Which budget refused a `rate_limited` (or `rate_limit_unavailable`) request. */
export type RateLimitScope = 'agent' | 'credential' | 'policy' | 'gate'

/** What the upstream did for a forwarded request. */
export interface UpstreamRecord {
  /** The upstream's HTTP status. */
  readonly status: number
  /** From forwarding until the upstream's response headers were complete. */
  readonly seconds: number
  /** Request body bytes sent upstream. */
  readonly bytesIn: number
  /** Response body bytes delivered to the agent. */
  readonly bytesOut: number
}

/**
 * How one request ended, as the ledger row says it. Names only come from the live snapshot: the
 * agent's raw service segment or token never reaches an observer.
 */
export interface RequestRecord {
  readonly channel: Channel
  /** The configured service that served the request; null when none did (unknown, refused earlier). */
  readonly service: string | null
  /** The authenticated agent's name; null without a (valid) token. */
  readonly agent: string | null
  /** The method as sent (an observer maps unknown ones to a bounded label). */
  readonly method: string
  readonly decision: 'allowed' | 'blocked' | 'failed'
  /** The refusal or failure code; null when the request ended well. */
  readonly code: string | null
  /** From arrival until the outcome was recorded. */
  readonly durationSeconds: number
  /** Which budget refused a `rate_limited` or `rate_limit_unavailable` request; null otherwise. */
  readonly rateLimit: RateLimitScope | null
  /** Null when nothing came back from an upstream (refused, or the upstream failed first). */
  readonly upstream: UpstreamRecord | null
}

/**
 * Watches the one pipeline: the HTTP gate and the MCP server feed it from the same outcomes, so a
 * request is counted once whichever channel it came through. `@aegis/telemetry` implements it;
 * this package needs no metrics library. Calls are on the hot path: keep them cheap, never throw.
 */
export interface RequestObserver {
  /** A request entered the pipeline; `requestEnded` follows exactly once. */
  requestStarted(): void
  requestEnded(record: RequestRecord): void
  /** A ledger write the pipeline waited for failed. */
  ledgerWriteFailed(): void
  /**
   * A budget could not be checked because the shared rate-limit store (Redis) did not answer;
   * `passed` when `rate_limit.failure_mode` is `open` and the request went on without that limit.
   * Optional: observers written before shared limits existed need not implement it.
   */
  rateLimitUnavailable?(scope: RateLimitScope, passed: boolean): void
  /** The credential snapshot changed (also called once with the first one): what exists now. */
  snapshotChanged(snapshot: Snapshot): void
}

/** The exposition a gate serves at `GET /_aegis/metrics` (`@aegis/telemetry`'s `GateTelemetry`). */
export interface MetricsExposition {
  /** The `Content-Type` of `render()`'s text. */
  readonly contentType: string
  render(): Promise<string>
}
