import type {
  AttemptOutcome,
  ClaimedDelivery,
  Delivery,
  EnableResult,
  Endpoint,
  NewEndpoint,
  Outbox,
  OutboxCounters,
  RecordResult,
} from './outbox.js'
import type { DeliveryStatus } from './schema.js'

/** Which deliveries `deliveries()` lists (newest first; `limit` default 100). */
export interface DeliveryFilter {
  status?: DeliveryStatus
  endpointId?: string
  limit?: number
}

/**
 * The webhook outbox of either engine, as the relay and the `aegis webhook …` commands use it.
 * Same names and semantics as `Outbox` (SQLite, in the ledger file) and `PgOutbox` (PostgreSQL),
 * returned as promises. Writing events is not here: that happens inside the ledger's batch
 * transaction (`LedgerExtension.written` / `PgLedgerExtension.written`).
 */
export interface OutboxStore {
  readonly engine: 'sqlite' | 'postgres'
  /** This process's counts, for metrics. */
  readonly counters: Readonly<OutboxCounters>
  /** Up to `limit` due deliveries, none to an endpoint in `exclude`. */
  claim(limit: number, exclude?: readonly string[]): Promise<ClaimedDelivery[]>
  record(deliveryId: number, outcome: AttemptOutcome, random?: number): Promise<RecordResult>
  disable(endpointId: string, reason: string): Promise<void>
  addEndpoint(endpoint: NewEndpoint): Promise<Endpoint>
  putEndpoint(endpoint: NewEndpoint & { id: string }): Promise<Endpoint>
  endpoints(): Promise<Endpoint[]>
  endpointForDelivery(id: string): Promise<ClaimedDelivery['endpoint'] | null>
  removeEndpoint(id: string): Promise<boolean>
  /** A disabled endpoint active again, secret kept (see `Outbox.enable`). */
  enable(id: string): Promise<EnableResult>
  deliveries(filter?: DeliveryFilter): Promise<Delivery[]>
  redeliver(deliveryId: number): Promise<boolean>
  /** Deletes up to `limit` deliveries finished before `finishedBefore` (and their spent events); see `Outbox.prune`. */
  prune(finishedBefore: number, limit: number): Promise<number>
  queueDepth(): Promise<number>
  nextDueAt(): Promise<number | null>
  noteExpiry(credential: string, expiresAt: string, thresholdDays: number): Promise<string | null>
}

/**
 * The SQLite outbox behind the async interface. `outbox` must be attached to its ledger (the ledger
 * owns the connection and closes it); a sync throw becomes a rejected promise.
 */
export function sqliteOutboxStore(outbox: Outbox): OutboxStore {
  const run = async <R>(fn: () => R): Promise<R> => fn()
  return {
    engine: 'sqlite',
    counters: outbox.counters,
    claim: (limit, exclude) => run(() => outbox.claim(limit, exclude)),
    record: (id, outcome, random) => run(() => outbox.record(id, outcome, random)),
    disable: (id, reason) => run(() => outbox.disable(id, reason)),
    addEndpoint: (endpoint) => run(() => outbox.addEndpoint(endpoint)),
    putEndpoint: (endpoint) => run(() => outbox.putEndpoint(endpoint)),
    endpoints: () => run(() => outbox.endpoints()),
    endpointForDelivery: (id) => run(() => outbox.endpointForDelivery(id)),
    removeEndpoint: (id) => run(() => outbox.removeEndpoint(id)),
    enable: (id) => run(() => outbox.enable(id)),
    deliveries: (filter) => run(() => outbox.deliveries(filter)),
    redeliver: (id) => run(() => outbox.redeliver(id)),
    prune: (before, limit) => run(() => outbox.prune(before, limit)),
    queueDepth: () => run(() => outbox.queueDepth()),
    nextDueAt: () => run(() => outbox.nextDueAt()),
    noteExpiry: (credential, expiresAt, days) => run(() => outbox.noteExpiry(credential, expiresAt, days)),
  }
}
