import type { Pool, PoolClient } from 'pg'
import {
  coalesceKey,
  type EntryLike,
  type EventData,
  type EventType,
  entryData,
  eventTypeOf,
  newEventId,
} from '../events.js'
import type {
  AttemptOutcome,
  ClaimedDelivery,
  Delivery,
  EnableResult,
  Endpoint,
  NewEndpoint,
  OutboxCounters,
  OutboxOptions,
  RecordResult,
} from '../outbox.js'
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
} from '../outbox-rules.js'
import type { DeliveryFilter, OutboxStore } from '../outbox-store.js'

type Row = Record<string, unknown>

const T = {
  endpoints: 'aegis.webhook_endpoints',
  events: 'aegis.webhook_events',
  deliveries: 'aegis.webhook_deliveries',
  notices: 'aegis.webhook_expiry_notices',
} as const

/**
 * Writers of events and endpoint states take this transaction-level advisory lock (every gate's
 * ledger batch with a blocked entry, expiry notices, disabling and removing endpoints): the
 * coalescing decision "is there an open event for this key?" then sees every other gate's
 * committed events, so a flood spread over several gates is still one event per key per window,
 * and no two writers lock rows in opposite orders. Relays do not take it: a claim skips locked rows.
 */
const WRITE_LOCK = `SELECT pg_advisory_xact_lock(hashtext('aegis.webhook_outbox'))`

const ACTIVE_ENDPOINTS = `SELECT id, events FROM ${T.endpoints} WHERE status = 'active'`
const INSERT_EVENT = `INSERT INTO ${T.events} (id, type, coalesce_key, data, created_at, window_end) VALUES ($1, $2, $3, $4, $5, $6)`
const INSERT_DELIVERY = `INSERT INTO ${T.deliveries} (event_id, endpoint_id, status, attempt, next_attempt_at, created_at)
  VALUES ($1, $2, 'pending', 0, $3, $4)`
// `status = 'pending'` again outside the subquery: a row a relay claimed meanwhile is re-checked
// after its lock is released, and stays out.
const OVERFLOW = `UPDATE ${T.deliveries} SET status = 'cancelled', last_error = $1
  WHERE status = 'pending' AND id IN (SELECT id FROM ${T.deliveries} WHERE endpoint_id = $2 AND status = 'pending'
  ORDER BY id DESC OFFSET $3)`
const CANCEL_ENDPOINT = `UPDATE ${T.deliveries} SET status = 'cancelled', lease_until = NULL, last_error = $1
  WHERE endpoint_id = $2 AND status IN ('pending', 'delivering')`

/**
 * The webhook outbox on PostgreSQL, shared by every gate on the database (tables in schema
 * `aegis`, migrated with `WEBHOOKS_PG_MIGRATIONS`). As a `PgLedgerExtension` (`openPgLedger({
 * extensions: [outbox] })`) it writes each batch's events inside that batch's transaction; as an
 * `OutboxStore` it serves the relay and the CLI. Same rules as the SQLite `Outbox`
 * (outbox-rules.ts); only the SQL differs. Claims lock with `FOR UPDATE SKIP LOCKED` and lease
 * for `leaseMs`, so relays of several gates never hold one delivery at once, and a gate that died
 * mid-attempt has its claims handed out again when the lease expires. The pool is the host's.
 */
export class PgOutbox implements OutboxStore {
  readonly engine = 'postgres'
  readonly counters: OutboxCounters = { dropped: 0, coalesced: 0 }
  /** `PgLedgerExtension.decisions`: only blocked entries raise events. */
  readonly decisions = ['blocked'] as const
  private readonly windowMs: number
  private readonly cap: number
  private readonly leaseMs: number
  private readonly now: () => number

  constructor(
    private readonly pool: Pool,
    options: OutboxOptions = {},
  ) {
    this.windowMs = options.coalesceWindowMs ?? DEFAULTS.coalesceWindowMs
    this.cap = options.maxPendingPerEndpoint ?? DEFAULTS.maxPendingPerEndpoint
    this.leaseMs = options.leaseMs ?? DEFAULTS.leaseMs
    this.now = options.now ?? Date.now
  }

  /** `PgLedgerExtension.written`: runs inside the ledger's batch transaction (`tx`). */
  async written(tx: PoolClient, entries: readonly EntryLike[]): Promise<void> {
    const raised: { type: EventType; data: EventData }[] = []
    for (const entry of entries) {
      const type = eventTypeOf(entry)
      if (type !== null) raised.push({ type, data: entryData(entry) })
    }
    if (raised.length === 0) return
    // Read once per batch, and only in a batch with a blocked entry: a flood is one query.
    const endpoints = (await tx.query(ACTIVE_ENDPOINTS)).rows as Row[]
    const targeted = raised
      .map((r) => ({ ...r, targets: subscribers(endpoints, r.type) }))
      .filter((r) => r.targets.length > 0)
    if (targeted.length === 0) return
    await tx.query(WRITE_LOCK)
    const now = this.now()
    for (const r of targeted) await this.raise(tx, r.type, r.data, r.targets, now)
  }

  /** As `Outbox.raise`: folded into the key's open event, or a new event due at the window's end. */
  private async raise(
    tx: PoolClient,
    type: EventType,
    data: EventData,
    endpointIds: readonly string[],
    now: number,
  ): Promise<void> {
    const key = coalesceKey(type, data)
    const open = (
      await tx.query(
        `SELECT e.id, e.data FROM ${T.events} e WHERE e.coalesce_key = $1 AND e.window_end > $2
        AND NOT EXISTS (SELECT 1 FROM ${T.deliveries} d WHERE d.event_id = e.id AND (d.status <> 'pending' OR d.attempt > 0))
        ORDER BY e.created_at DESC LIMIT 1`,
        [key, now],
      )
    ).rows[0] as Row | undefined
    if (open !== undefined && (await this.stillOpen(tx, String(open.id)))) {
      const merged = mergeOccurrence(JSON.parse(String(open.data)) as EventData, data)
      await tx.query(`UPDATE ${T.events} SET data = $1 WHERE id = $2`, [JSON.stringify(merged), open.id])
      this.counters.coalesced++
      return
    }
    const latest = (
      await tx.query(
        `SELECT max(window_end) AS until FROM ${T.events} WHERE coalesce_key = $1 AND window_end > $2`,
        [key, now],
      )
    ).rows[0] as Row | undefined
    const until = latest?.until === null || latest?.until === undefined ? null : Number(latest.until)
    const { dueAt, windowEnd } = newEventWindow(until, now, this.windowMs)
    const id = newEventId()
    await tx.query(INSERT_EVENT, [id, type, key, JSON.stringify(data), now, windowEnd])
    for (const endpointId of endpointIds) await this.enqueue(tx, id, endpointId, dueAt, now)
  }

  /**
   * Locks the event's deliveries and checks none was claimed meanwhile: a relay's claim holds
   * its rows until it commits, so an event is either still unattempted here (and the relay's
   * claim waits, then reads the merged body) or already out (and stays frozen).
   */
  private async stillOpen(tx: PoolClient, eventId: string): Promise<boolean> {
    const rows = (
      await tx.query(`SELECT status, attempt FROM ${T.deliveries} WHERE event_id = $1 FOR UPDATE`, [eventId])
    ).rows as Row[]
    return rows.every((r) => r.status === 'pending' && Number(r.attempt) === 0)
  }

  private async enqueue(tx: PoolClient, eventId: string, endpointId: string, dueAt: number, now: number) {
    await tx.query(INSERT_DELIVERY, [eventId, endpointId, dueAt, now])
    this.counters.dropped +=
      (await tx.query(OVERFLOW, [REASONS.queueFull, endpointId, this.cap])).rowCount ?? 0
  }

  async noteExpiry(credential: string, expiresAt: string, thresholdDays: number): Promise<string | null> {
    return this.transaction(async (tx) => {
      await tx.query(WRITE_LOCK)
      const now = this.now()
      const targets = subscribers((await tx.query(ACTIVE_ENDPOINTS)).rows as Row[], 'credential_expiry')
      if (targets.length === 0) return null
      const id = newEventId()
      const noted = await tx.query(
        `INSERT INTO ${T.notices} (credential, expires_at, threshold_days, event_id) VALUES ($1, $2, $3, $4)
        ON CONFLICT DO NOTHING`,
        [credential, expiresAt, thresholdDays, id],
      )
      if (noted.rowCount === 0) return null
      const data = expiryData(credential, expiresAt, thresholdDays, now)
      await tx.query(INSERT_EVENT, [id, 'credential_expiry', `expiry:${id}`, JSON.stringify(data), now, now])
      for (const endpointId of targets) await this.enqueue(tx, id, endpointId, now, now)
      return id
    })
  }

  /**
   * Claims up to `limit` due deliveries for one attempt each, after putting back those whose lease
   * expired. Rows another relay is claiming are skipped (`SKIP LOCKED`), never waited for or
   * shared. A delivery whose endpoint is gone or disabled is cancelled instead of returned;
   * deliveries to the endpoints in `exclude` are left pending.
   */
  async claim(limit: number, exclude: readonly string[] = []): Promise<ClaimedDelivery[]> {
    return this.transaction(async (tx) => {
      const now = this.now()
      await tx.query(
        `UPDATE ${T.deliveries} SET status = 'pending', lease_until = NULL WHERE status = 'delivering' AND id IN
        (SELECT id FROM ${T.deliveries} WHERE status = 'delivering' AND lease_until <= $1 FOR UPDATE SKIP LOCKED)`,
        [now],
      )
      const rows = (
        await tx.query(
          `UPDATE ${T.deliveries} SET status = 'delivering', lease_until = $1 WHERE id IN
          (SELECT id FROM ${T.deliveries} WHERE status = 'pending' AND next_attempt_at <= $2
           AND NOT (endpoint_id = ANY($4::text[]))
           ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
          RETURNING id, event_id, endpoint_id, attempt, next_attempt_at`,
          [now + this.leaseMs, now, limit, [...exclude]],
        )
      ).rows as Row[]
      if (rows.length === 0) return []
      rows.sort(
        (a, b) => Number(a.next_attempt_at) - Number(b.next_attempt_at) || Number(a.id) - Number(b.id),
      )
      const endpoints = await this.byId(
        tx,
        T.endpoints,
        'id, url, secret, status',
        rows.map((r) => r.endpoint_id),
      )
      const events = await this.byId(
        tx,
        T.events,
        'id, type, data, created_at',
        rows.map((r) => r.event_id),
      )
      const claimed: ClaimedDelivery[] = []
      for (const row of rows) {
        const endpoint = endpoints.get(String(row.endpoint_id))
        const event = events.get(String(row.event_id))
        if (endpoint === undefined || event === undefined || endpoint.status !== 'active') {
          await tx.query(
            `UPDATE ${T.deliveries} SET status = 'cancelled', lease_until = NULL, last_error = $1 WHERE id = $2`,
            [REASONS.unavailable, row.id],
          )
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
    })
  }

  private async byId(
    tx: PoolClient,
    table: string,
    columns: string,
    ids: unknown[],
  ): Promise<Map<string, Row>> {
    const { rows } = await tx.query(`SELECT ${columns} FROM ${table} WHERE id = ANY($1::text[])`, [
      [...new Set(ids.map(String))],
    ])
    return new Map((rows as Row[]).map((r) => [String(r.id), r]))
  }

  /** As `Outbox.record`; the decision is `recordAttempt` (outbox-rules.ts). */
  async record(
    deliveryId: number,
    outcome: AttemptOutcome,
    random: number = Math.random(),
  ): Promise<RecordResult> {
    return this.transaction(async (tx) => {
      // A 410 disables the endpoint: take the writers' lock before any row lock, in their order.
      if (outcome.kind === 'gone') await tx.query(WRITE_LOCK)
      const now = this.now()
      const row = (
        await tx.query(`SELECT attempt, endpoint_id FROM ${T.deliveries} WHERE id = $1 FOR UPDATE`, [
          deliveryId,
        ])
      ).rows[0] as Row | undefined
      const next = recordAttempt(outcome, Number(row?.attempt ?? 0), random, now)
      await tx.query(
        `UPDATE ${T.deliveries} SET status = $1, attempt = attempt + 1, next_attempt_at = coalesce($2, next_attempt_at),
        lease_until = NULL, last_status = $3, last_error = $4, last_attempt_at = $5 WHERE id = $6 AND status = 'delivering'`,
        [next.status, next.nextAttemptAt, next.lastStatus, next.lastError, now, deliveryId],
      )
      if (next.disable !== null && row !== undefined)
        await this.disableIn(tx, String(row.endpoint_id), next.disable)
      return next.result
    })
  }

  async disable(endpointId: string, reason: string): Promise<void> {
    await this.transaction(async (tx) => {
      await tx.query(WRITE_LOCK)
      await this.disableIn(tx, endpointId, reason)
    })
  }

  private async disableIn(tx: PoolClient, endpointId: string, reason: string): Promise<void> {
    await tx.query(`UPDATE ${T.endpoints} SET status = 'disabled', disabled_reason = $1 WHERE id = $2`, [
      reason,
      endpointId,
    ])
    await tx.query(CANCEL_ENDPOINT, [REASONS.disabled(reason), endpointId])
  }

  async addEndpoint(endpoint: NewEndpoint): Promise<Endpoint> {
    return this.writeEndpoint(endpoint, '')
  }

  async putEndpoint(endpoint: NewEndpoint & { id: string }): Promise<Endpoint> {
    await this.writeEndpoint(
      endpoint,
      'ON CONFLICT (id) DO UPDATE SET url = excluded.url, events = excluded.events, secret = excluded.secret',
    )
    return (await this.endpoints()).find((e) => e.id === endpoint.id) as Endpoint
  }

  private async writeEndpoint(endpoint: NewEndpoint, onConflict: string): Promise<Endpoint> {
    const { id, events } = checkEndpoint(endpoint)
    const now = this.now()
    await this.pool.query(
      `INSERT INTO ${T.endpoints} (id, url, events, secret, status, created_at) VALUES ($1, $2, $3, $4, 'active', $5) ${onConflict}`,
      [id, endpoint.url, events.join(','), endpoint.sealedSecret, now],
    )
    return {
      id,
      url: endpoint.url,
      events,
      status: 'active',
      disabledReason: null,
      createdAt: new Date(now).toISOString(),
    }
  }

  async endpoints(): Promise<Endpoint[]> {
    const { rows } = await this.pool.query(
      `SELECT id, url, events, status, disabled_reason, created_at FROM ${T.endpoints} ORDER BY created_at, id`,
    )
    return (rows as Row[]).map(endpointOfRow)
  }

  async endpointForDelivery(id: string): Promise<ClaimedDelivery['endpoint'] | null> {
    const row = (await this.pool.query(`SELECT id, url, secret FROM ${T.endpoints} WHERE id = $1`, [id]))
      .rows[0]
    return row === undefined ? null : sealedEndpointOfRow(row as Row)
  }

  /** See `Outbox.enable`. */
  async enable(id: string): Promise<EnableResult> {
    return this.transaction(async (tx) => {
      await tx.query(WRITE_LOCK)
      const row = (
        await tx.query<{ status: string }>(`SELECT status FROM ${T.endpoints} WHERE id = $1`, [id])
      ).rows[0]
      if (row === undefined) return 'not_found'
      if (row.status === 'active') return 'already_active'
      await tx.query(`UPDATE ${T.endpoints} SET status = 'active', disabled_reason = NULL WHERE id = $1`, [
        id,
      ])
      return 'enabled'
    })
  }

  async removeEndpoint(id: string): Promise<boolean> {
    return this.transaction(async (tx) => {
      await tx.query(WRITE_LOCK)
      await tx.query(CANCEL_ENDPOINT, [REASONS.removed, id])
      return ((await tx.query(`DELETE FROM ${T.endpoints} WHERE id = $1`, [id])).rowCount ?? 0) > 0
    })
  }

  async deliveries(filter: DeliveryFilter = {}): Promise<Delivery[]> {
    const where: string[] = []
    const params: unknown[] = []
    if (filter.status !== undefined) {
      params.push(filter.status)
      where.push(`d.status = $${params.length}`)
    }
    if (filter.endpointId !== undefined) {
      params.push(filter.endpointId)
      where.push(`d.endpoint_id = $${params.length}`)
    }
    params.push(filter.limit ?? 100)
    const { rows } = await this.pool.query(
      `SELECT d.*, e.type FROM ${T.deliveries} d JOIN ${T.events} e ON e.id = d.event_id
      ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY d.id DESC LIMIT $${params.length}`,
      params,
    )
    return (rows as Row[]).map(deliveryOfRow)
  }

  async redeliver(deliveryId: number): Promise<boolean> {
    const result = await this.pool.query(
      `UPDATE ${T.deliveries} SET status = 'pending', attempt = 0, next_attempt_at = $1, lease_until = NULL,
      last_error = NULL WHERE id = $2 AND status IN ('succeeded', 'dead', 'cancelled')`,
      [this.now(), deliveryId],
    )
    return (result.rowCount ?? 0) > 0
  }

  /**
   * As `Outbox.prune`. Rows another transaction holds (a redeliver, a claim) are skipped, and the
   * status is checked again outside the subquery, so a delivery put back in the queue meanwhile stays.
   */
  async prune(finishedBefore: number, limit: number): Promise<number> {
    return this.transaction(async (tx) => {
      const now = this.now()
      const { rows } = await tx.query(
        `DELETE FROM ${T.deliveries} WHERE status IN ('succeeded', 'dead', 'cancelled') AND id IN
        (SELECT id FROM ${T.deliveries} WHERE status IN ('succeeded', 'dead', 'cancelled')
         AND coalesce(last_attempt_at, created_at) < $1
         AND NOT EXISTS (SELECT 1 FROM ${T.events} e WHERE e.id = event_id AND e.window_end > $3)
         ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)
        RETURNING event_id`,
        [finishedBefore, limit, now],
      )
      const eventIds = [...new Set((rows as Row[]).map((r) => String(r.event_id)))]
      if (eventIds.length > 0) {
        await tx.query(
          `DELETE FROM ${T.events} e WHERE e.id = ANY($1::text[]) AND e.window_end <= $2
          AND NOT EXISTS (SELECT 1 FROM ${T.deliveries} d WHERE d.event_id = e.id)`,
          [eventIds, now],
        )
      }
      return rows.length
    })
  }

  async queueDepth(): Promise<number> {
    const { rows } = await this.pool.query(
      `SELECT count(*) AS n FROM ${T.deliveries} WHERE status IN ('pending', 'delivering')`,
    )
    return Number((rows[0] as Row).n)
  }

  async nextDueAt(): Promise<number | null> {
    const { rows } = await this.pool.query(
      `SELECT min(next_attempt_at) AS at FROM ${T.deliveries} WHERE status = 'pending'`,
    )
    const at = (rows[0] as Row | undefined)?.at
    return at === null || at === undefined ? null : Number(at)
  }

  private async transaction<R>(fn: (tx: PoolClient) => Promise<R>): Promise<R> {
    const client = await this.pool.connect()
    let broken = false
    try {
      await client.query('BEGIN')
      const result = await fn(client)
      await client.query('COMMIT')
      return result
    } catch (error) {
      // A connection that cannot even roll back leaves the pool instead of serving the next caller.
      await client.query('ROLLBACK').catch(() => {
        broken = true
      })
      throw error
    } finally {
      client.release(broken)
    }
  }
}
