/**
 * What telemetry reads, as structural types: `@aegis/proxy`'s `RequestRecord` and `Snapshot` fit
 * them, and this package depends on neither the proxy nor its types (a test checks the fit).
 */

/** How one request ended (`@aegis/proxy`'s `RequestRecord`). */
export interface ObservedRequest {
  /** The configured service that served it, or null. */
  readonly service: string | null
  /** The authenticated agent's name, or null. */
  readonly agent: string | null
  readonly method: string
  readonly decision: 'allowed' | 'blocked' | 'failed'
  /** The refusal or failure code, or null when it ended well. */
  readonly code: string | null
  readonly durationSeconds: number
  /** Which budget refused a `rate_limited` request. */
  readonly rateLimit: 'agent' | 'credential' | 'policy' | 'gate' | null
  readonly upstream: {
    readonly status: number
    readonly seconds: number
    readonly bytesIn: number
    readonly bytesOut: number
  } | null
}

/** The credentials and agents that exist now (`@aegis/proxy`'s `Snapshot`). */
export interface ObservedSnapshot {
  readonly byService: ReadonlyMap<string, { readonly service: string; readonly expiresAt: number | null }>
  readonly agentsByHash: ReadonlyMap<string, { readonly name: string }>
  /** Services whose stored credential is damaged. */
  readonly unavailable: ReadonlyMap<string, unknown>
}

/** How a webhook attempt ended (the relay's `RecordResult`). */
export type WebhookResult = 'succeeded' | 'retry' | 'dead' | 'disabled'

/** What telemetry reads from the webhook outbox at scrape time (structurally `@aegis/webhooks`' Outbox). */
export interface WebhookQueue {
  /** A promise when the outbox lives in a database reached asynchronously (PostgreSQL). */
  queueDepth(): number | Promise<number>
  readonly counters: { readonly dropped: number }
}
