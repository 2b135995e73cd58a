import type { Pool } from 'pg'
import { blockedGroups, timeline, window } from '../aggregates.js'
import { LedgerError } from '../errors.js'
import { buildWhere, limitOf } from '../filter.js'
import { COMPLETION_DELAY_MS } from '../group-commit.js'
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
import { toQuery } from './sql.js'
import { TABLE } from './statements.js'
import { serverUnreachable } from './unreachable.js'
import { writeBatch } from './write-batch.js'

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

/** Rows of a page of `iterate`: big enough to amortise the round trip, small enough to hold. */
const PAGE = 500

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
      (rows, completions) => writeBatch(this.pool, this.extensions, rows, completions),
      (cause) => new LedgerError('write_failed', 'Ledger write failed', { cause }),
      { maxBatch, completionDelayMs: COMPLETION_DELAY_MS, unreachable: serverUnreachable },
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
    try {
      await this.flush()
    } finally {
      // What a server still away kept is given up (and counted), not retried after the close.
      this.batcher.discard(new LedgerError('closed', 'Ledger is closed'))
    }
  }

  private async run<T>(plan: () => Plan<T>): Promise<T> {
    this.assertOpen()
    return runAsync(plan(), (read) => this.all(read))
  }

  private async all(read: { key: string; sql: string; params: Record<string, unknown> }): Promise<unknown[]> {
    return (await this.pool.query(toQuery(read))).rows
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
