import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { drizzle } from 'drizzle-orm/better-sqlite3'
import { migrate } from 'drizzle-orm/better-sqlite3/migrator'
import { blockedGroups, timeline, window } from './aggregates.js'
import { BACKSTOP_PAGES, BackgroundCheckpointer, INLINE_PAGES } from './checkpointer.js'
import { LedgerError } from './errors.js'
import { exportLedger } from './export.js'
import { buildWhere, limitOf, type Where } from './filter.js'
import { GroupCommit } from './group-commit.js'
import { type Dialect, type Plan, runSync } from './plan.js'
import * as plans from './queries.js'
import { type CompleteParams, completeParams, type EntryRow, requestRow, systemRow, toEntry } from './rows.js'
import * as schema from './schema.js'
import type {
  BlockedGroup,
  Decision,
  ExportFormat,
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
} from './types.js'

/** The drizzle migrations shipped with the package (same relative path from src/ and dist/). */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../drizzle', import.meta.url))

export interface OpenLedgerOptions {
  /** The ledger's SQLite file (the CLI uses `<dataDir>/ledger.db`). Created with mode 0600. */
  file: string
  /** How long a write waits for a lock held by another connection. Default 5000 ms. */
  busyTimeoutMs?: number
  /**
   * Who copies the write-ahead log into the database file. `inline` (default): the writer, every
   * 1000 pages, in the commit that crossed the line — a pause of a few ms. `background`: a worker
   * thread every 200 ms, so commits never wait for it; for a long-running writer such as the gate.
   */
  checkpoint?: 'inline' | 'background'
  /**
   * Tables that must change in the same transaction as the entries that caused them (the webhook
   * outbox): each is attached to the writing connection once, after the migrations, and sees every
   * batch's new entries inside that batch's transaction. One that throws fails the whole batch, so
   * an entry never commits without its consequences.
   */
  extensions?: readonly LedgerExtension[]
}

/** See `OpenLedgerOptions.extensions`. */
export interface LedgerExtension {
  /** Only entries with one of these decisions are passed to `written` (all when absent). */
  readonly decisions?: readonly Decision[]
  /** Called once with the ledger's writing connection; may create its own tables there. */
  attach(db: Database.Database): void
  /**
   * Called inside the batch transaction with the entries it inserted (requests and system) and
   * those a completion gave a new decision (as they are after it), in that order.
   */
  written(entries: readonly LedgerEntry[]): void
}

type Statement = Database.Statement
type StoredRow = plans.StoredRow

/** The shared reads' SQLite specifics (see plan.ts). */
const SQLITE: Dialect = {
  entries: 'entries',
  byteOrder: '',
  idsIn: (ids) => ({ sql: 'id IN (SELECT value FROM json_each(@ids))', value: JSON.stringify(ids) }),
}

const COLUMNS =
  'time, ts, request_id, channel, agent, credential, service, target_host, method, path, decision, code, ' +
  'status, duration_ms, bytes_in, bytes_out, dry_run, redactions, inspection, event, detail'
const COLUMN_NAMES = COLUMNS.split(', ')

// Positional parameters: binding by name costs a property lookup per column per row, which shows
// on the gate's hot path (every request is written before it is forwarded).
const INSERT = `INSERT INTO entries (${COLUMNS}) VALUES (${COLUMN_NAMES.map(() => '?').join(', ')})`
const COMPLETE = `UPDATE entries SET
  decision = coalesce(?, decision), code = coalesce(?, code), status = coalesce(?, status),
  duration_ms = ?, bytes_in = ?, bytes_out = ?,
  redactions = coalesce(?, redactions), inspection = coalesce(?, inspection)
  WHERE id = ? AND channel <> 'system'`
// The usual completion (no new decision, code or inspection: a forwarded request that ended well)
// leaves those columns alone, so the decision index is not touched.
const COMPLETE_PLAIN = `UPDATE entries SET
  status = coalesce(?, status), duration_ms = ?, bytes_in = ?, bytes_out = ?,
  redactions = coalesce(?, redactions)
  WHERE id = ? AND channel <> 'system'`

function insertValues(r: EntryRow): unknown[] {
  return [
    r.time,
    r.ts,
    r.request_id,
    r.channel,
    r.agent,
    r.credential,
    r.service,
    r.target_host,
    r.method,
    r.path,
    r.decision,
    r.code,
    r.status,
    r.duration_ms,
    r.bytes_in,
    r.bytes_out,
    r.dry_run,
    r.redactions,
    r.inspection,
    r.event,
    r.detail,
  ]
}

/** Whether a completion only adds figures (see COMPLETE_PLAIN). */
function isPlain(p: CompleteParams): boolean {
  return p.decision === null && p.code === null && p.inspection === null
}

function plainValues(p: CompleteParams): unknown[] {
  return [p.status, p.duration_ms, p.bytes_in, p.bytes_out, p.redactions, p.id]
}

function completeValues(p: CompleteParams): unknown[] {
  return [
    p.decision,
    p.code,
    p.status,
    p.duration_ms,
    p.bytes_in,
    p.bytes_out,
    p.redactions,
    p.inspection,
    p.id,
  ]
}

/**
 * The page cache of the writing connection, KiB. better-sqlite3 builds SQLite with a 16 MB default,
 * which an append-only ledger fills with pages it never reads again: the gate's resident memory
 * under load was 18 MB higher with it. An append and a completion touch the right-most pages of
 * the table and its indexes, which 1 MiB holds many times over; queries read through the OS cache.
 */
const WRITER_CACHE_KIB = 1024

/** Opens (creating when needed) and migrates a ledger file. Synchronous. */
export function openLedger(options: OpenLedgerOptions): Ledger {
  const { file } = options
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000
  let client: Database.Database | undefined
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 })
    // Create the file ourselves so it is never world-readable, not even for an instant.
    closeSync(openSync(file, 'a', 0o600))
    chmodSync(file, 0o600)
    client = new Database(file)
    client.pragma(`busy_timeout = ${Math.max(0, Math.trunc(busyTimeoutMs))}`)
    client.pragma('journal_mode = WAL')
    client.pragma('synchronous = NORMAL')
    client.pragma(`cache_size = -${WRITER_CACHE_KIB}`)
    migrate(drizzle({ client, schema }), { migrationsFolder: MIGRATIONS_DIR })
    const extensions = options.extensions ?? []
    for (const extension of extensions) extension.attach(client)
    return new Ledger(client, file, busyTimeoutMs, options.checkpoint ?? 'inline', extensions)
  } catch (cause) {
    client?.close()
    throw new LedgerError('write_failed', `Cannot open the ledger at ${file}`, { cause })
  }
}

/**
 * The audit ledger. Writes are group-committed: see `append`. Reads run on the same connection
 * (`query`, `stats`, both bounded) or on a private read-only connection (`iterate`, `exportTo`), so
 * a long export never blocks the writer.
 */
export class Ledger {
  private readonly batcher: GroupCommit<EntryRow, CompleteParams>
  private readonly insert: Statement
  private readonly update: Statement
  private readonly updatePlain: Statement
  private readonly byId: Statement
  private readonly statements = new Map<string, Statement>()
  private readonly readers = new Set<Database.Database>()
  private checkpointer: BackgroundCheckpointer | null = null
  private closed = false

  /** Use `openLedger`. */
  constructor(
    private readonly db: Database.Database,
    private readonly file: string,
    private readonly busyTimeoutMs: number,
    checkpoint: 'inline' | 'background' = 'inline',
    extensions: readonly LedgerExtension[] = [],
  ) {
    if (checkpoint === 'background') this.checkpointInBackground()
    this.insert = db.prepare(INSERT)
    this.update = db.prepare(COMPLETE)
    this.updatePlain = db.prepare(COMPLETE_PLAIN)
    this.byId = db.prepare('SELECT * FROM entries WHERE id = ?')
    const writeBatch = db.transaction((rows: EntryRow[], completions: CompleteParams[]) => {
      const ids = rows.map((row) => Number(this.insert.run(insertValues(row)).lastInsertRowid))
      let completed = 0
      // Entries a completion decided anew (a streamed body found too large: blocked): rare.
      let decided: number[] | null = null
      for (const params of completions) {
        const result = isPlain(params)
          ? this.updatePlain.run(plainValues(params))
          : this.update.run(completeValues(params))
        completed += result.changes > 0 ? 1 : 0
        if (result.changes > 0 && params.decision !== null && extensions.length > 0) {
          decided = decided ?? []
          decided.push(params.id)
        }
      }
      // Built only for an extension that wants them: an allowed request costs the gate no object.
      for (const extension of extensions) {
        const wanted = extension.decisions
        const written: LedgerEntry[] = []
        rows.forEach((row, i) => {
          if (wanted === undefined || wanted.includes(row.decision))
            written.push(toEntry({ ...row, id: ids[i] ?? 0 }))
        })
        for (const id of decided ?? []) {
          const row = this.byId.get(id) as StoredRow
          if (wanted === undefined || wanted.includes(row.decision)) written.push(toEntry(row))
        }
        if (written.length > 0) extension.written(written)
      }
      return { ids, completed }
    })
    this.batcher = new GroupCommit(
      (rows, completions) => writeBatch(rows, completions),
      (cause) => new LedgerError('write_failed', 'Ledger write failed', { cause }),
    )
  }

  /**
   * Queues a request entry. Resolves with its id only after the transaction holding it committed
   * (one transaction per event-loop turn for everything queued); rejects when that transaction
   * failed, when the entry is malformed, or when the ledger is closed. Never silently dropped.
   */
  append(entry: LedgerEntryInput): Promise<number> {
    if (this.closed) return Promise.reject(new LedgerError('closed', 'Ledger is closed'))
    try {
      return this.batcher.append(requestRow(entry))
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /**
   * Records how a request ended (an UPDATE batched with the next flush). Fire-and-forget: a crash
   * before the flush loses it, the entry itself is already durable.
   */
  complete(id: number, outcome: LedgerOutcome): void {
    const params = this.closed ? null : completeParams(id, outcome)
    if (params === null) this.batcher.drop()
    else this.batcher.complete(params)
  }

  /** Appends a system entry (`gate_start`, `gate_stop`, …) with the same durability as `append`. */
  system(event: string, detail?: string): Promise<number> {
    if (this.closed) return Promise.reject(new LedgerError('closed', 'Ledger is closed'))
    try {
      return this.batcher.append(systemRow(event, detail))
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /**
   * Matching entries, newest first (`order: 'asc'`: oldest first; by id when `afterId`/`beforeId`
   * is set); at most `limit` (default 20).
   */
  query(filter: LedgerFilter = {}): LedgerEntry[] {
    this.assertOpen()
    return this.run(plans.query(SQLITE, filter))
  }

  /** The entries with these ids that exist, by id ascending (at most 1000 ids per call). */
  entries(ids: readonly number[]): LedgerEntry[] {
    this.assertOpen()
    return this.run(plans.entries(SQLITE, ids))
  }

  /**
   * Requests per bucket of `bucketSeconds` by decision over `[since, until)`, oldest first, with
   * empty buckets (at most 10 000 buckets).
   */
  timeline(range: LedgerRange & { bucketSeconds: number }): TimelineBucket[] {
    this.assertOpen()
    return this.run(timeline(SQLITE, range, Date.now()))
  }

  /** Request, blocked and failed counts over `[since, until)` and the p95 of completed durations. */
  window(range: LedgerRange): LedgerWindow {
    this.assertOpen()
    return this.run(window(SQLITE, range, Date.now()))
  }

  /**
   * Refused requests over `[since, until)` grouped by code and agent (`byAgent: false`: by code
   * only), largest first, at most `limit` groups (default 100).
   */
  blockedGroups(range: LedgerRange & { limit?: number; byAgent?: boolean }): BlockedGroup[] {
    this.assertOpen()
    return this.run(blockedGroups(SQLITE, range, Date.now()))
  }

  /** Runs a shared read plan on the writer's connection, one cached statement per SQL shape. */
  private run<T>(plan: Plan<T>): T {
    return runSync(plan, (read) => this.cached(read.key, () => this.db.prepare(read.sql)).all(read.params))
  }

  /**
   * Streams matching entries oldest first (better-sqlite3 `.iterate()`, on a private read-only
   * connection that is closed when the iteration ends). Consume it fully or `break` out of it.
   */
  iterate(filter: LedgerFilter = {}): IterableIterator<LedgerEntry> {
    this.assertOpen()
    const where = buildWhere(filter)
    const limit = limitOf(filter.limit, -1)
    return this.stream(where, limit)
  }

  /** Counts by decision, service, agent and code, computed in SQL. `total` excludes system entries. */
  stats(filter: LedgerStatsFilter = {}): LedgerStats {
    this.assertOpen()
    return this.run(plans.stats(SQLITE, filter))
  }

  /**
   * Streams matching entries (oldest first) to `out` as csv, json or jsonl, waiting for 'drain'
   * whenever `out` asks for it. Does not end `out`. Resolves with the number of rows written.
   */
  async exportTo(
    format: ExportFormat,
    filter: LedgerFilter,
    out: NodeJS.WritableStream,
  ): Promise<{ rows: number }> {
    return exportLedger(this, format, filter, out)
  }

  /** Writes everything queued now. Rejects if that write failed (its appends were rejected too). */
  async flush(): Promise<void> {
    const error = this.batcher.flushNow()
    if (error) throw error
  }

  /** Group-commit counters, for metrics. */
  get metrics(): LedgerMetrics {
    return this.batcher.metrics()
  }

  /** See `OpenLedgerOptions.checkpoint`. */
  private checkpointInBackground(): void {
    this.db.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`)
    this.checkpointer = new BackgroundCheckpointer(this.file, () => {
      // The worker is gone: the writer checkpoints again, as SQLite does by default.
      this.checkpointer = null
      if (!this.closed) this.db.pragma(`wal_autocheckpoint = ${INLINE_PAGES}`)
    })
  }

  /** Flushes queued appends and completions, then closes every connection. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    try {
      await this.flush()
      await this.checkpointer?.stop()
    } finally {
      for (const reader of this.readers) reader.close()
      this.readers.clear()
      this.db.close()
    }
  }

  private *stream(where: Where, limit: number): Generator<LedgerEntry, void, undefined> {
    const reader = new Database(this.file, { readonly: true, fileMustExist: true })
    this.readers.add(reader)
    try {
      reader.pragma(`busy_timeout = ${this.busyTimeoutMs}`)
      const statement = reader.prepare(
        `SELECT * FROM entries ${where.sql} ORDER BY ts ASC, id ASC LIMIT @limit`,
      )
      for (const row of statement.iterate({ ...where.params, limit }) as IterableIterator<StoredRow>) {
        yield toEntry(row)
      }
    } finally {
      this.readers.delete(reader)
      if (reader.open) reader.close()
    }
  }

  private cached(key: string, make: () => Statement): Statement {
    let statement = this.statements.get(key)
    if (!statement) {
      statement = make()
      this.statements.set(key, statement)
    }
    return statement
  }

  private assertOpen(): void {
    if (this.closed) throw new LedgerError('closed', 'Ledger is closed')
  }
}
