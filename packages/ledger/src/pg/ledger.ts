import type { Pool, PoolClient } from 'pg'
import { blockedGroups, timeline, window } from '../aggregates.js'
import { LedgerError } from '../errors.js'
import { buildWhere, limitOf } from '../filter.js'
import { and, type Dialect, type Plan, runAsync } from '../plan.js'
import * as plans from '../queries.js'
import {
  type CompleteParams,
  completeParams,
  type EntryRow,
  requestRow,
  systemRow,
  toEntry,
} from '../rows.js'
import type { LedgerStore } from '../store.js'
import type {
  BlockedGroup,
  LedgerEntry,
  LedgerEntryInput,
  LedgerFilter,
  LedgerMetrics,
  LedgerOutcome,
  LedgerRange,
  LedgerStats,
  LedgerStatsFilter,
  LedgerWindow,
  TimelineBucket,
} from '../types.js'
import { AsyncGroupCommit } from './batcher.js'
import type { PgLedgerExtension } from './extension.js'
import { INT8_AS_NUMBER, toQuery } from './sql.js'

const TABLE = 'aegis.ledger_entries'

/** The shared reads' PostgreSQL specifics (see plan.ts). */
const POSTGRES: Dialect = {
  entries: TABLE,
  byteOrder: ' COLLATE "C"',
  idsIn: (ids) => ({ sql: 'id = ANY(@ids::bigint[])', value: ids }),
}

export interface OpenPgLedgerOptions {
  /** The host's pool; the ledger borrows a connection per batch and never closes the pool. */
  pool: Pool
  /** See `PgLedgerExtension`. */
  extensions?: readonly PgLedgerExtension[]
  /** Most appends in one transaction. Default 1000. */
  maxBatch?: number
}

/** The request columns in insert order, each with the array type its `unnest` parameter has. */
const INSERT_COLUMNS: readonly [keyof EntryRow, string][] = [
  ['time', 'text'],
  ['ts', 'bigint'],
  ['request_id', 'text'],
  ['channel', 'text'],
  ['agent', 'text'],
  ['credential', 'text'],
  ['service', 'text'],
  ['target_host', 'text'],
  ['method', 'text'],
  ['path', 'text'],
  ['decision', 'text'],
  ['code', 'text'],
  ['status', 'integer'],
  ['duration_ms', 'bigint'],
  ['bytes_in', 'bigint'],
  ['bytes_out', 'bigint'],
  ['dry_run', 'text'],
  ['redactions', 'bigint'],
  ['inspection', 'text'],
  ['event', 'text'],
  ['detail', 'text'],
]

// One statement text for every batch size: the rows travel as one array per column, so the
// statement is prepared once per connection (a VALUES list would be a new statement per size).
const INSERT = `INSERT INTO ${TABLE} (${INSERT_COLUMNS.map(([c]) => c).join(', ')})
  SELECT * FROM unnest(${INSERT_COLUMNS.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ')})
  RETURNING id`

const COMPLETE_COLUMNS: readonly [keyof CompleteParams, string][] = [
  ['id', 'bigint'],
  ['decision', 'text'],
  ['code', 'text'],
  ['status', 'integer'],
  ['duration_ms', 'bigint'],
  ['bytes_in', 'bigint'],
  ['bytes_out', 'bigint'],
  ['redactions', 'bigint'],
  ['inspection', 'text'],
]

/** The SQLite COMPLETE statement for a whole batch of completions (distinct ids). */
function completeSql(returning: string): string {
  return `UPDATE ${TABLE} AS e SET
  decision = coalesce(c.decision, e.decision), code = coalesce(c.code, e.code),
  status = coalesce(c.status, e.status), duration_ms = c.duration_ms, bytes_in = c.bytes_in,
  bytes_out = c.bytes_out, redactions = coalesce(c.redactions, e.redactions),
  inspection = coalesce(c.inspection, e.inspection)
  FROM unnest(${COMPLETE_COLUMNS.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ')})
    AS c(${COMPLETE_COLUMNS.map(([c]) => c).join(', ')})
  WHERE e.id = c.id AND e.channel <> 'system'
  RETURNING ${returning}`
}
const COMPLETE = completeSql('e.id')
/** With extensions: the updated rows, for those a completion gave a new decision. */
const COMPLETE_ROWS = completeSql('e.*')

function columns<T>(items: readonly T[], names: readonly (readonly [keyof T, string])[]): unknown[][] {
  return names.map(([name]) => items.map((item) => item[name]))
}

/**
 * Two completions of one id in one batch, as SQLite applies them one after the other: the later
 * one's figures, and its optional fields where it has them.
 */
function merged(completions: readonly CompleteParams[]): Map<number, CompleteParams> {
  const byId = new Map<number, CompleteParams>()
  for (const next of completions) {
    const prev = byId.get(next.id)
    byId.set(
      next.id,
      prev === undefined
        ? next
        : {
            ...next,
            decision: next.decision ?? prev.decision,
            code: next.code ?? prev.code,
            status: next.status ?? prev.status,
            redactions: next.redactions ?? prev.redactions,
            inspection: next.inspection ?? prev.inspection,
          },
    )
  }
  return byId
}

/** Rows of a page of `iterate`: big enough to amortise the round trip, small enough to hold. */
const PAGE = 500

/** Completions wait at most this long for an append batch to ride in. */
const COMPLETION_DELAY_MS = 20

/** The audit ledger on PostgreSQL. See `openPgLedger`. */
export class PgLedger implements LedgerStore {
  readonly engine = 'postgres' as const
  private readonly batcher: AsyncGroupCommit<EntryRow, CompleteParams>
  private closed = false

  /** Use `openPgLedger`. */
  constructor(
    private readonly pool: Pool,
    private readonly extensions: readonly PgLedgerExtension[],
    maxBatch: number,
  ) {
    this.batcher = new AsyncGroupCommit(
      (rows, completions) => this.writeBatch(rows, completions),
      (cause) => new LedgerError('write_failed', 'Ledger write failed', { cause }),
      { maxBatch, completionDelayMs: COMPLETION_DELAY_MS },
    )
  }

  /**
   * Queues a request entry. Resolves with its id only after the transaction holding it committed;
   * rejects when that transaction failed, when the entry is malformed, or when the ledger is closed.
   */
  append(entry: LedgerEntryInput): Promise<number> {
    if (this.closed) return Promise.reject(new LedgerError('closed', 'Ledger is closed'))
    try {
      return this.batcher.append(requestRow(entry))
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /** Records how a request ended, in the next batch's transaction (fire-and-forget). */
  complete(id: number, outcome: LedgerOutcome): void {
    const params = this.closed ? null : completeParams(id, outcome)
    if (params === null) this.batcher.drop()
    else this.batcher.complete(params)
  }

  /** Appends a system entry with the same durability as `append`. */
  system(event: string, detail?: string): Promise<number> {
    if (this.closed) return Promise.reject(new LedgerError('closed', 'Ledger is closed'))
    try {
      return this.batcher.append(systemRow(event, detail))
    } catch (error) {
      return Promise.reject(error)
    }
  }

  async query(filter: LedgerFilter = {}): Promise<LedgerEntry[]> {
    return this.run(() => plans.query(POSTGRES, filter))
  }

  async entries(ids: readonly number[]): Promise<LedgerEntry[]> {
    return this.run(() => plans.entries(POSTGRES, ids))
  }

  async timeline(range: LedgerRange & { bucketSeconds: number }): Promise<TimelineBucket[]> {
    return this.run(() => timeline(POSTGRES, range, Date.now()))
  }

  async window(range: LedgerRange): Promise<LedgerWindow> {
    return this.run(() => window(POSTGRES, range, Date.now()))
  }

  async blockedGroups(range: LedgerRange & { limit?: number; byAgent?: boolean }): Promise<BlockedGroup[]> {
    return this.run(() => blockedGroups(POSTGRES, range, Date.now()))
  }

  async stats(filter: LedgerStatsFilter = {}): Promise<LedgerStats> {
    return this.run(() => plans.stats(POSTGRES, filter))
  }

  /**
   * Matching entries oldest first, read in keyset pages of 500 rows (each page a short query, so
   * a paused export holds no connection and no transaction). Rows written after the iteration
   * began (a higher id) are left out, as a SQLite read transaction would.
   */
  async *iterate(filter: LedgerFilter = {}): AsyncGenerator<LedgerEntry, void, undefined> {
    this.assertOpen()
    const where = buildWhere(filter)
    let remaining = limitOf(filter.limit, Number.POSITIVE_INFINITY)
    const [top] = await this.all({
      key: 'it:top',
      sql: `SELECT max(id) AS ceiling FROM ${TABLE}`,
      params: {},
    })
    const ceiling = (top as { ceiling: number | null } | undefined)?.ceiling ?? null
    if (ceiling === null) return
    const first = and(where.sql, 'id <= @ceiling')
    const next = and(first, '(ts, id) > (@lastTs, @lastId)')
    let last: { ts: number; id: number } | null = null
    while (remaining > 0) {
      this.assertOpen()
      const size = Math.min(PAGE, remaining)
      const rows = (await this.all({
        key: '',
        sql: `SELECT * FROM ${TABLE} ${last === null ? first : next} ORDER BY ts ASC, id ASC LIMIT @size`,
        params: { ...where.params, ceiling, size, lastTs: last?.ts, lastId: last?.id },
      })) as plans.StoredRow[]
      for (const row of rows) yield toEntry(row)
      const end = rows.at(-1)
      if (end === undefined || rows.length < size) return
      remaining -= rows.length
      last = { ts: end.ts, id: end.id }
    }
  }

  /** Writes everything queued now (completions too) and waits; rejects if that write failed. */
  flush(): Promise<void> {
    return this.batcher.flush()
  }

  /** Group-commit counters, for metrics (`batches` is the number of committed transactions). */
  get metrics(): LedgerMetrics {
    return this.batcher.metrics()
  }

  /** Refuses new appends, writes what is queued and waits for it. The pool stays open (the host's). */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.flush()
  }

  private async run<T>(plan: () => Plan<T>): Promise<T> {
    this.assertOpen()
    return runAsync(plan(), (read) => this.all(read))
  }

  private async all(read: { key: string; sql: string; params: Record<string, unknown> }): Promise<unknown[]> {
    return (await this.pool.query(toQuery(read))).rows
  }

  /** One batch, one transaction: the inserts, the completions, the extensions, COMMIT. */
  private async writeBatch(rows: EntryRow[], completions: CompleteParams[]) {
    const client = await this.pool.connect()
    // The pool listens for errors of idle connections only. A connection that dies while checked
    // out (the server restarted, an admin terminated it) emits 'error' on the client: unheard,
    // Node turns it into an exception that would end the gate. Here it only marks the connection
    // broken; the statement in flight (or the next) rejects and fails the batch.
    let broken: Error | undefined
    const onError = (error: Error): void => {
      broken ??= error
    }
    client.on('error', onError)
    try {
      try {
        await client.query('BEGIN')
      } catch (error) {
        broken ??= error as Error // nothing works on this connection
        throw error
      }
      try {
        const result = await this.writeIn(client, rows, completions)
        // An extension that swallowed a failed statement leaves the transaction aborted, and
        // COMMIT then rolls back without an error: only the command tag tells.
        const commit = await client.query('COMMIT')
        if (commit.command !== 'COMMIT') throw new Error(`COMMIT answered ${commit.command}`)
        return result
      } catch (error) {
        if (broken === undefined) {
          await client.query('ROLLBACK').catch((rollback: Error) => {
            broken ??= rollback
          })
        }
        throw error
      }
    } finally {
      client.off('error', onError)
      // A broken connection is closed instead of going back to the pool.
      client.release(broken)
    }
  }

  private async writeIn(client: PoolClient, rows: EntryRow[], completions: CompleteParams[]) {
    let ids: number[] = []
    if (rows.length > 0) {
      const inserted = await client.query<{ id: number }>({
        name: 'aegis_ledger_insert',
        text: INSERT,
        values: columns(rows, INSERT_COLUMNS),
        types: INT8_AS_NUMBER,
      })
      // Identity values are drawn in the order the rows are inserted, so ascending ids are the
      // input order whatever order RETURNING lists them in.
      ids = inserted.rows.map((r) => r.id).sort((a, b) => a - b)
      if (ids.length !== rows.length) throw new Error(`inserted ${ids.length} of ${rows.length} rows`)
    }
    let completed = 0
    const decided: LedgerEntry[] = []
    if (completions.length > 0) {
      const byId = merged(completions)
      const distinct = [...byId.values()]
      const withRows = this.extensions.length > 0 && distinct.some((c) => c.decision !== null)
      const updated = await client.query<plans.StoredRow>({
        name: withRows ? 'aegis_ledger_complete_rows' : 'aegis_ledger_complete',
        text: withRows ? COMPLETE_ROWS : COMPLETE,
        values: columns(distinct, COMPLETE_COLUMNS),
        types: INT8_AS_NUMBER,
      })
      const hit = new Set(updated.rows.map((r) => r.id))
      completed = completions.filter((c) => hit.has(c.id)).length
      if (withRows) {
        // In completion order, as SQLite passes them.
        const rowOf = new Map(updated.rows.map((r) => [r.id, r]))
        for (const c of distinct) {
          const row = c.decision === null ? undefined : rowOf.get(c.id)
          if (row !== undefined) decided.push(toEntry(row))
        }
      }
    }
    for (const extension of this.extensions) {
      const wanted = extension.decisions
      const written: LedgerEntry[] = []
      rows.forEach((row, i) => {
        if (wanted === undefined || wanted.includes(row.decision))
          written.push(toEntry({ ...row, id: ids[i] ?? 0 }))
      })
      for (const entry of decided)
        if (wanted === undefined || wanted.includes(entry.decision)) written.push(entry)
      if (written.length > 0) await extension.written(client, written)
    }
    return { ids, completed }
  }

  private assertOpen(): void {
    if (this.closed) throw new LedgerError('closed', 'Ledger is closed')
  }
}

/**
 * The audit ledger on PostgreSQL, for several gates sharing one database. Appends are
 * group-committed: while one batch commits the next one gathers (one multi-row INSERT, one COMMIT);
 * an append resolves only after its COMMIT. Run `migrate(pool, [LEDGER_PG_MIGRATIONS])` of
 * `@aegis/pg` first (the CLI's `aegis storage migrate`).
 */
export function openPgLedger(options: OpenPgLedgerOptions): PgLedger {
  const maxBatch = options.maxBatch ?? 1000
  if (!Number.isSafeInteger(maxBatch) || maxBatch < 1) {
    throw new RangeError('openPgLedger: maxBatch must be a positive integer')
  }
  return new PgLedger(options.pool, options.extensions ?? [], maxBatch)
}
