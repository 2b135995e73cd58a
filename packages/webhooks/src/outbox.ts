import type Database from 'better-sqlite3'
import {
  coalesceKey,
  type EntryLike,
  type EventData,
  type EventPayload,
  type EventType,
  entryData,
  eventTypeOf,
  newEventId,
} from './events.js'
import {
  checkEndpoint,
  DEFAULTS,
  deliveryOfRow,
  endpointOfRow,
  expiryData,
  mergeOccurrence,
  newEventWindow,
  payloadOfRow,
  REASONS,
  recordAttempt,
  sealedEndpointOfRow,
  subscribers,
} from './outbox-rules.js'
import { type DeliveryStatus, OUTBOX_DDL } from './schema.js'

export interface OutboxOptions {
  /** Identical events (type, service, agent, code) within this window become one with a count. Default 10 s. */
  coalesceWindowMs?: number
  /** Pending deliveries kept per endpoint; beyond it the oldest pending are cancelled. Default 1000. */
  maxPendingPerEndpoint?: number
  /** How long a claimed delivery is leased; an expired lease is delivered again. Default 20 s: an attempt is cut at 15 s. */
  leaseMs?: number
  /** Epoch ms; injectable so tests can step through the retry schedule. Default `Date.now`. */
  now?: () => number
}

export interface NewEndpoint {
  url: string
  events: readonly EventType[]
  /** The signing secret, sealed by the host (opaque here; the outbox never sees it in clear). */
  sealedSecret: Buffer
  /** Default: a new `ep_…` id. */
  id?: string
}

export interface Endpoint {
  id: string
  url: string
  events: EventType[]
  status: 'active' | 'disabled'
  disabledReason: string | null
  createdAt: string
}

/** A delivery as `webhook deliveries` shows it. */
export interface Delivery {
  id: number
  eventId: string
  endpointId: string
  type: EventType
  status: DeliveryStatus
  attempt: number
  nextAttemptAt: string | null
  lastStatus: number | null
  lastError: string | null
  lastAttemptAt: string | null
  createdAt: string
}

/** A delivery claimed for one attempt: what to send and where. */
export interface ClaimedDelivery {
  deliveryId: number
  /** Attempts already made (0 for the first). */
  attempt: number
  endpoint: { id: string; url: string; sealedSecret: Buffer }
  payload: EventPayload
}

/** How one attempt ended, as the relay reports it. */
export type AttemptOutcome =
  | { kind: 'delivered'; status: number }
  /** The endpoint answered 410 Gone: it is disabled and its queue cancelled. */
  | { kind: 'gone'; status: number }
  | { kind: 'failed'; status: number | null; error: string; retryAfterMs?: number | null }

export type RecordResult = 'succeeded' | 'retry' | 'dead' | 'disabled'

/** What `enable` found: the endpoint was disabled and is active now, was active already, or is not there. */
export type EnableResult = 'enabled' | 'already_active' | 'not_found'

/** Counters for metrics. */
export interface OutboxCounters {
  /** Pending deliveries cancelled because their endpoint's queue was full. */
  dropped: number
  /** Occurrences folded into an existing event instead of a new one. */
  coalesced: number
}

type Row = Record<string, unknown>
type Statement = Database.Statement

/**
 * This module as the ledger's writer thread can import it: `outbox.ts` from the sources,
 * `outbox.js` (its own build entry) from dist/, where this code may sit in a shared chunk beside it.
 */
const OUTBOX_MODULE = new URL(`./outbox.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url)
  .href

/** What the ledger's writer thread needs to build an outbox of its own (`LedgerExtension.worker`). */
export interface OutboxWorkerDescriptor {
  readonly module: string
  readonly export: 'Outbox'
  readonly options: Omit<OutboxOptions, 'now'>
}

/**
 * The transactional webhook outbox. Attach it to the ledger (`openLedger({ extensions: [outbox] })`):
 * every batch's blocked entries become events and deliveries inside that batch's transaction, so
 * an entry never commits without its alert, nor an alert without its entry. The relay claims due
 * deliveries with one `UPDATE … RETURNING`; a lease that expires (the process died mid-attempt) puts
 * the delivery back, with the same event id, so delivery is at-least-once.
 */
export class Outbox {
  readonly counters: OutboxCounters = { dropped: 0, coalesced: 0 }
  /** `LedgerExtension.decisions`: only blocked entries raise events, so the ledger builds no others. */
  readonly decisions = ['blocked'] as const
  private readonly windowMs: number
  private readonly cap: number
  private readonly leaseMs: number
  private readonly now: () => number
  private db: Database.Database | null = null
  private s: Record<string, Statement> = {}
  /**
   * `LedgerExtension.worker`: with the ledger's `writer: 'worker'`, the writer thread builds a twin
   * from this and writes the events in its batch transaction, while this outbox (on the ledger's
   * other connection) serves the relay and the commands; the twin's `counters` changes are added
   * to these. Absent with a custom `now`: a function cannot cross to another thread.
   */
  readonly worker?: OutboxWorkerDescriptor

  constructor(options: OutboxOptions = {}) {
    this.windowMs = options.coalesceWindowMs ?? DEFAULTS.coalesceWindowMs
    this.cap = options.maxPendingPerEndpoint ?? DEFAULTS.maxPendingPerEndpoint
    this.leaseMs = options.leaseMs ?? DEFAULTS.leaseMs
    this.now = options.now ?? Date.now
    if (options.now === undefined) {
      const { coalesceWindowMs, maxPendingPerEndpoint, leaseMs } = options
      this.worker = {
        module: OUTBOX_MODULE,
        export: 'Outbox',
        options: { coalesceWindowMs, maxPendingPerEndpoint, leaseMs },
      }
    }
  }

  /** `LedgerExtension.attach`: creates the tables on the ledger's connection. */
  attach(db: Database.Database): void {
    db.exec(OUTBOX_DDL)
    this.db = db
    const p = (sql: string) => db.prepare(sql)
    this.s = {
      activeEndpoints: p(`SELECT id, events FROM webhook_endpoints WHERE status = 'active'`),
      openEvent: p(`SELECT id, data FROM webhook_events e WHERE coalesce_key = ? AND window_end > ?
        AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id AND (d.status <> 'pending' OR d.attempt > 0))
        ORDER BY created_at DESC LIMIT 1`),
      latestWindow: p(
        `SELECT max(window_end) AS until FROM webhook_events WHERE coalesce_key = ? AND window_end > ?`,
      ),
      updateData: p(`UPDATE webhook_events SET data = ? WHERE id = ?`),
      insertEvent: p(
        `INSERT INTO webhook_events (id, type, coalesce_key, data, created_at, window_end) VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      insertDelivery:
        p(`INSERT INTO webhook_deliveries (event_id, endpoint_id, status, attempt, next_attempt_at, created_at)
        VALUES (?, ?, 'pending', 0, ?, ?)`),
      overflow: p(`UPDATE webhook_deliveries SET status = 'cancelled', last_error = ?
        WHERE id IN (SELECT id FROM webhook_deliveries WHERE endpoint_id = ? AND status = 'pending' ORDER BY id DESC LIMIT -1 OFFSET ?)`),
      due: p(`SELECT EXISTS (SELECT 1 FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= @now
          AND endpoint_id NOT IN (SELECT value FROM json_each(@exclude)))
        OR EXISTS (SELECT 1 FROM webhook_deliveries WHERE status = 'delivering' AND lease_until <= @now) AS due`),
      requeue: p(
        `UPDATE webhook_deliveries SET status = 'pending', lease_until = NULL WHERE status = 'delivering' AND lease_until <= ?`,
      ),
      claim: p(`UPDATE webhook_deliveries SET status = 'delivering', lease_until = @lease
        WHERE id IN (SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= @now
          AND endpoint_id NOT IN (SELECT value FROM json_each(@exclude)) ORDER BY next_attempt_at, id LIMIT @limit)
        RETURNING id, event_id, endpoint_id, attempt`),
      event: p(`SELECT id, type, data, created_at FROM webhook_events WHERE id = ?`),
      endpoint: p(`SELECT id, url, secret, status FROM webhook_endpoints WHERE id = ?`),
      delivery: p(`SELECT attempt, status FROM webhook_deliveries WHERE id = ?`),
      finish:
        p(`UPDATE webhook_deliveries SET status = ?, attempt = attempt + 1, next_attempt_at = coalesce(?, next_attempt_at), lease_until = NULL,
        last_status = ?, last_error = ?, last_attempt_at = ? WHERE id = ? AND status = 'delivering'`),
      cancel: p(
        `UPDATE webhook_deliveries SET status = 'cancelled', lease_until = NULL, last_error = ? WHERE id = ?`,
      ),
      cancelEndpoint:
        p(`UPDATE webhook_deliveries SET status = 'cancelled', lease_until = NULL, last_error = ?
        WHERE endpoint_id = ? AND status IN ('pending', 'delivering')`),
      disable: p(`UPDATE webhook_endpoints SET status = 'disabled', disabled_reason = ? WHERE id = ?`),
      addEndpoint: p(
        `INSERT INTO webhook_endpoints (id, url, events, secret, status, created_at) VALUES (?, ?, ?, ?, 'active', ?)`,
      ),
      putEndpoint: p(
        `INSERT INTO webhook_endpoints (id, url, events, secret, status, created_at) VALUES (?, ?, ?, ?, 'active', ?)
        ON CONFLICT (id) DO UPDATE SET url = excluded.url, events = excluded.events, secret = excluded.secret`,
      ),
      listEndpoints: p(
        `SELECT id, url, events, status, disabled_reason, created_at FROM webhook_endpoints ORDER BY created_at, id`,
      ),
      endpointSecret: p(`SELECT id, url, secret, status FROM webhook_endpoints WHERE id = ?`),
      removeEndpoint: p(`DELETE FROM webhook_endpoints WHERE id = ?`),
      endpointStatus: p(`SELECT status FROM webhook_endpoints WHERE id = ?`),
      enable: p(`UPDATE webhook_endpoints SET status = 'active', disabled_reason = NULL WHERE id = ?`),
      redeliver:
        p(`UPDATE webhook_deliveries SET status = 'pending', attempt = 0, next_attempt_at = ?, lease_until = NULL,
        last_error = NULL WHERE id = ? AND status IN ('succeeded', 'dead', 'cancelled')`),
      depth: p(`SELECT count(*) AS n FROM webhook_deliveries WHERE status IN ('pending', 'delivering')`),
      nextDue: p(`SELECT min(next_attempt_at) AS at FROM webhook_deliveries WHERE status = 'pending'`),
      pruneDeliveries: p(`DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries
        WHERE status IN ('succeeded', 'dead', 'cancelled') AND coalesce(last_attempt_at, created_at) < @before
        AND NOT EXISTS (SELECT 1 FROM webhook_events e WHERE e.id = event_id AND e.window_end > @now)
        ORDER BY id LIMIT @limit)
        RETURNING event_id`),
      pruneEvent: p(`DELETE FROM webhook_events WHERE id = ? AND window_end <= ?
        AND NOT EXISTS (SELECT 1 FROM webhook_deliveries WHERE event_id = ?)`),
      expiryNotice: p(
        `INSERT OR IGNORE INTO webhook_expiry_notices (credential, expires_at, threshold_days, event_id) VALUES (?, ?, ?, ?)`,
      ),
    }
  }

  /** `LedgerExtension.written`: runs inside the ledger's batch transaction. */
  written(entries: readonly EntryLike[]): void {
    let endpoints: Row[] | null = null
    let now = 0
    for (const entry of entries) {
      const type = eventTypeOf(entry)
      if (type === null) continue
      if (endpoints === null) {
        // Read once per batch, and only in a batch with a blocked entry: a flood is one query.
        endpoints = this.stmt('activeEndpoints').all() as Row[]
        now = this.now()
      }
      const targets = subscribers(endpoints, type)
      if (targets.length > 0) this.raise(type, entryData(entry), targets, now)
    }
  }

  /**
   * Adds an occurrence: folded into the open event of its key (not yet attempted, window not
   * over) with `count` + 1, or a new event. A new event that follows one already sent within the
   * window waits for that window's end, so a sustained flood is one delivery per window per key.
   */
  private raise(type: EventType, data: EventData, endpointIds: readonly string[], now: number): string {
    const key = coalesceKey(type, data)
    const open = this.stmt('openEvent').get(key, now) as Row | undefined
    if (open !== undefined) {
      const merged = mergeOccurrence(JSON.parse(String(open.data)) as EventData, data)
      this.stmt('updateData').run(JSON.stringify(merged), open.id)
      this.counters.coalesced++
      return String(open.id)
    }
    const latest = (this.stmt('latestWindow').get(key, now) as Row).until as number | null
    const { dueAt, windowEnd } = newEventWindow(latest, now, this.windowMs)
    const id = newEventId()
    this.stmt('insertEvent').run(id, type, key, JSON.stringify(data), now, windowEnd)
    for (const endpointId of endpointIds) {
      this.stmt('insertDelivery').run(id, endpointId, dueAt, now)
      this.counters.dropped += this.stmt('overflow').run(REASONS.queueFull, endpointId, this.cap).changes
    }
    return id
  }

  /**
   * `credential_expiry`, once per credential, expiry date and threshold: returns the new event id,
   * or null when this notice was already raised (or nobody subscribes).
   */
  noteExpiry(credential: string, expiresAt: string, thresholdDays: number): string | null {
    const db = this.requireDb()
    return db.transaction(() => {
      const now = this.now()
      const targets = subscribers(this.stmt('activeEndpoints').all() as Row[], 'credential_expiry')
      if (targets.length === 0) return null
      const id = newEventId()
      if (this.stmt('expiryNotice').run(credential, expiresAt, thresholdDays, id).changes === 0) return null
      const data = expiryData(credential, expiresAt, thresholdDays, now)
      this.stmt('insertEvent').run(id, 'credential_expiry', `expiry:${id}`, JSON.stringify(data), now, now)
      for (const endpointId of targets) {
        this.stmt('insertDelivery').run(id, endpointId, now, now)
        this.counters.dropped += this.stmt('overflow').run(REASONS.queueFull, endpointId, this.cap).changes
      }
      return id
    })()
  }

  /**
   * Claims up to `limit` due deliveries for one attempt each (one `UPDATE … RETURNING`), after
   * putting back those whose lease expired. A delivery whose endpoint is gone or disabled is
   * cancelled instead of returned. Deliveries to the endpoints in `exclude` are left pending (the
   * relay passes those it is still waiting on, so one slow endpoint holds up only itself).
   */
  claim(limit: number, exclude: readonly string[] = []): ClaimedDelivery[] {
    const db = this.requireDb()
    // A read first: with nothing due (the usual second, and always without endpoints) no write
    // transaction is begun. The relay claims once a second on the event loop's connection while the
    // ledger's writer thread commits on its own: a write here would wait for the writer's lock
    // (busy_timeout) and hold the event loop meanwhile. What falls due after this read is claimed
    // next time.
    const skip = JSON.stringify(exclude)
    if ((this.stmt('due').get({ now: this.now(), exclude: skip }) as Row).due === 0) return []
    return db.transaction(() => {
      const now = this.now()
      this.stmt('requeue').run(now)
      const rows = this.stmt('claim').all({ now, lease: now + this.leaseMs, limit, exclude: skip }) as Row[]
      const claimed: ClaimedDelivery[] = []
      for (const row of rows) {
        const endpoint = this.stmt('endpoint').get(row.endpoint_id) as Row | undefined
        const event = this.stmt('event').get(row.event_id) as Row | undefined
        if (endpoint === undefined || event === undefined || endpoint.status !== 'active') {
          this.stmt('cancel').run(REASONS.unavailable, row.id)
          continue
        }
        claimed.push({
          deliveryId: Number(row.id),
          attempt: Number(row.attempt),
          endpoint: sealedEndpointOfRow(endpoint),
          payload: payloadOfRow(event),
        })
      }
      return claimed
    })()
  }

  /**
   * Records how a claimed attempt ended: succeeded; retried on the schedule (never sooner than a
   * `Retry-After`); dead once the schedule is exhausted; or, on 410, the endpoint disabled and its
   * queue cancelled. `random` in [0, 1) draws the jitter.
   */
  record(deliveryId: number, outcome: AttemptOutcome, random: number = Math.random()): RecordResult {
    const db = this.requireDb()
    return db.transaction((): RecordResult => {
      const now = this.now()
      const row = this.stmt('delivery').get(deliveryId) as Row | undefined
      const next = recordAttempt(outcome, Number(row?.attempt ?? 0), random, now)
      this.stmt('finish').run(
        next.status,
        next.nextAttemptAt,
        next.lastStatus,
        next.lastError,
        now,
        deliveryId,
      )
      if (next.disable !== null) {
        const endpointId = this.endpointOf(deliveryId)
        if (endpointId !== null) this.disable(endpointId, next.disable)
      }
      return next.result
    })()
  }

  /** Disables an endpoint and cancels what it still had queued. */
  disable(endpointId: string, reason: string): void {
    const db = this.requireDb()
    db.transaction(() => {
      this.stmt('disable').run(reason, endpointId)
      this.stmt('cancelEndpoint').run(REASONS.disabled(reason), endpointId)
    })()
  }

  /** Adds an endpoint; throws when its id exists already. */
  addEndpoint(endpoint: NewEndpoint): Endpoint {
    return this.writeEndpoint('addEndpoint', endpoint)
  }

  /**
   * Adds an endpoint, or replaces the URL, events and secret of the one with this id, keeping its
   * status (an endpoint a 410 disabled stays disabled): for endpoints that come from a config file.
   */
  putEndpoint(endpoint: NewEndpoint & { id: string }): Endpoint {
    this.writeEndpoint('putEndpoint', endpoint)
    return this.endpoints().find((e) => e.id === endpoint.id) as Endpoint
  }

  private writeEndpoint(statement: 'addEndpoint' | 'putEndpoint', endpoint: NewEndpoint): Endpoint {
    const { id, events } = checkEndpoint(endpoint)
    const now = this.now()
    this.stmt(statement).run(id, endpoint.url, events.join(','), endpoint.sealedSecret, now)
    return {
      id,
      url: endpoint.url,
      events,
      status: 'active',
      disabledReason: null,
      createdAt: new Date(now).toISOString(),
    }
  }

  /** Every endpoint, oldest first; never the secret. */
  endpoints(): Endpoint[] {
    return (this.stmt('listEndpoints').all() as Row[]).map(endpointOfRow)
  }

  /** One endpoint with its sealed secret (for `webhook test`), or null. */
  endpointForDelivery(id: string): ClaimedDelivery['endpoint'] | null {
    const r = this.stmt('endpointSecret').get(id) as Row | undefined
    return r === undefined ? null : sealedEndpointOfRow(r)
  }

  /** Removes an endpoint and cancels its queue. False when there is no such endpoint. */
  /**
   * Makes a disabled endpoint (a 410 disabled it) active again, with its id, URL, events and secret
   * as they were: later events are delivered to it. Deliveries cancelled meanwhile stay cancelled
   * (`redeliver` sends one again).
   */
  enable(id: string): EnableResult {
    const db = this.requireDb()
    return db.transaction((): EnableResult => {
      const row = this.stmt('endpointStatus').get(id) as { status: string } | undefined
      if (row === undefined) return 'not_found'
      if (row.status === 'active') return 'already_active'
      this.stmt('enable').run(id)
      return 'enabled'
    })()
  }

  removeEndpoint(id: string): boolean {
    const db = this.requireDb()
    return db.transaction(() => {
      this.stmt('cancelEndpoint').run(REASONS.removed, id)
      return this.stmt('removeEndpoint').run(id).changes > 0
    })()
  }

  /** Deliveries, newest first, optionally of one status or endpoint. */
  deliveries(filter: { status?: DeliveryStatus; endpointId?: string; limit?: number } = {}): Delivery[] {
    const where: string[] = []
    const params: unknown[] = []
    if (filter.status !== undefined) {
      where.push('d.status = ?')
      params.push(filter.status)
    }
    if (filter.endpointId !== undefined) {
      where.push('d.endpoint_id = ?')
      params.push(filter.endpointId)
    }
    const sql = `SELECT d.*, e.type FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
      ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY d.id DESC LIMIT ?`
    const rows = this.requireDb()
      .prepare(sql)
      .all(...params, filter.limit ?? 100) as Row[]
    return rows.map(deliveryOfRow)
  }

  /**
   * Puts a finished delivery (succeeded, dead or cancelled) back in the queue with attempt 0 and
   * the same event id, so the receiver's de-duplication on `webhook-id` still works. False when
   * there is no such finished delivery.
   */
  redeliver(deliveryId: number): boolean {
    return this.stmt('redeliver').run(this.now(), deliveryId).changes > 0
  }

  /**
   * Deletes up to `limit` finished deliveries (succeeded, dead, cancelled) whose last attempt, or
   * creation when never attempted, is before `finishedBefore` (epoch ms), oldest first, and the
   * events they leave without any delivery once their coalescing window is over. Pending and
   * in-flight deliveries are never touched. Returns how many deliveries were deleted (fewer than
   * `limit`: nothing more is that old). A delivery whose event's window is still open stays (the
   * next occurrence may be folded into that event), and so do expiry notices (they keep a notice
   * from repeating).
   */
  prune(finishedBefore: number, limit: number): number {
    const db = this.requireDb()
    return db.transaction(() => {
      const now = this.now()
      const rows = this.stmt('pruneDeliveries').all({ before: finishedBefore, now, limit }) as Row[]
      for (const eventId of new Set(rows.map((r) => String(r.event_id)))) {
        this.stmt('pruneEvent').run(eventId, now, eventId)
      }
      return rows.length
    })()
  }

  /** Deliveries pending or in flight. */
  queueDepth(): number {
    return Number((this.stmt('depth').get() as Row).n)
  }

  /** When the next pending delivery is due (epoch ms), or null when none is pending. */
  nextDueAt(): number | null {
    const at = (this.stmt('nextDue').get() as Row).at
    return at === null || at === undefined ? null : Number(at)
  }

  private endpointOf(deliveryId: number): string | null {
    const row = this.requireDb()
      .prepare('SELECT endpoint_id FROM webhook_deliveries WHERE id = ?')
      .get(deliveryId) as Row | undefined
    return row === undefined ? null : String(row.endpoint_id)
  }

  private stmt(name: string): Statement {
    const statement = this.s[name]
    if (statement === undefined) throw new Error('The webhook outbox is not attached to a ledger')
    return statement
  }

  private requireDb(): Database.Database {
    if (this.db === null) throw new Error('The webhook outbox is not attached to a ledger')
    return this.db
  }
}
