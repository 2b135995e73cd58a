import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { drizzle } from 'drizzle-orm/better-sqlite3'
import { migrate } from 'drizzle-orm/better-sqlite3/migrator'
import { readMigrationFiles } from 'drizzle-orm/migrator'
import { blockedGroups, timeline, window } from './aggregates.js'
import { BACKSTOP_PAGES, BackgroundCheckpointer, INLINE_PAGES } from './checkpointer.js'
import { LedgerError, storageFailureReason } from './errors.js'
import { exportLedger } from './export.js'
import { buildWhere, limitOf, type Where } from './filter.js'
import { GroupCommit } from './group-commit.js'
import { type Dialect, type Plan, runSync } from './plan.js'
import * as plans from './queries.js'
import {
  type CompleteParams,
  completeParams,
  type EntryRow,
  pushCompletion,
  pushRow,
  requestRow,
  systemRow,
  toEntry,
} from './rows.js'
import * as schema from './schema.js'
import { sqliteBatchWriter } from './sqlite-batch.js'
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
import type { WorkerExtensionDescriptor } from './writer-protocol.js'
import { ThreadWriter } from './writer-thread.js'

/** The drizzle migrations shipped with the package (same relative path from src/ and dist/). */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../drizzle', import.meta.url))

/** The migrations this build knows (`folderMillis`), read once. */
let knownMigrations: ReadonlySet<number> | undefined

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
   * Where the group-commit transaction runs. `inline` (default): on the event loop, synchronously
   * — nothing to start, for one-shot commands. `worker`: in a worker thread with its own connection,
   * so a busy gate's event loop only validates and queues rows (about 15 µs of its time per request
   * moves off it). With `checkpoint: 'background'` the checkpoints run on the checkpointer's own
   * thread and connection, never between the writer thread's transactions: a commit does not wait
   * for a checkpoint's copy and fsync. Every extension then needs a `worker` descriptor. Reads stay
   * on the event loop's connection.
   */
  writer?: 'inline' | 'worker'
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
  /**
   * How the writer thread builds this extension's twin (`writer: 'worker'`): it imports `module`,
   * constructs its `export` with `options` and attaches it to the thread's connection, where it
   * sees every batch inside the batch transaction. This object is still attached to the event
   * loop's connection (its reads and its own writes use that), and numbers in its `counters` get
   * the twin's changes added.
   */
  readonly worker?: WorkerExtensionDescriptor
  readonly counters?: object
}

type Statement = Database.Statement
type StoredRow = plans.StoredRow

/** The shared reads' SQLite specifics (see plan.ts). */
const SQLITE: Dialect = {
  entries: 'entries',
  byteOrder: '',
  idsIn: (ids) => ({ sql: 'id IN (SELECT value FROM json_each(@ids))', value: JSON.stringify(ids) }),
}

/** Where the batch transaction runs: on the event loop, or in a writer thread. */
interface Writer {
  append(row: EntryRow): Promise<number>
  complete(params: CompleteParams): void
  drop(): void
  flush(): Promise<void>
  metrics(): LedgerMetrics
  close(): Promise<void>
}

/** `Ledger write failed: <why>` (a full disk, a read-only folder, …), the cause kept. */
function writeFailed(file: string): (cause: unknown) => LedgerError {
  return (cause) =>
    new LedgerError('write_failed', `Ledger write failed: ${storageFailureReason(cause, file)}`, { cause })
}

/** `writer: 'inline'`: group commit on the event loop (`GroupCommit`), the transaction synchronous. */
function inlineWriter(
  db: Database.Database,
  extensions: readonly LedgerExtension[],
  failed: (cause: unknown) => LedgerError,
): Writer {
  const write = sqliteBatchWriter(db, extensions)
  const batcher = new GroupCommit<EntryRow, CompleteParams>((rows, completions) => {
    const flatRows: unknown[] = []
    for (const row of rows) pushRow(flatRows, row)
    const flatCompletions: unknown[] = []
    for (const params of completions) pushCompletion(flatCompletions, params)
    return write(flatRows, flatCompletions)
  }, failed)
  return {
    append: (row) => batcher.append(row),
    complete: (params) => batcher.complete(params),
    drop: () => batcher.drop(),
    flush: async () => {
      const error = batcher.flushNow()
      if (error) throw error
    },
    metrics: () => batcher.metrics(),
    close: async () => {
      const error = batcher.close()
      if (error) throw error
    },
  }
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
  const busyTimeoutMs = Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000))
  const checkpoint = options.checkpoint ?? 'inline'
  let client: Database.Database | undefined
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 })
    // Create the file ourselves so it is never world-readable, not even for an instant.
    closeSync(openSync(file, 'a', 0o600))
    chmodSync(file, 0o600)
    client = new Database(file)
    client.pragma(`busy_timeout = ${busyTimeoutMs}`)
    client.pragma('journal_mode = WAL')
    client.pragma('synchronous = NORMAL')
    client.pragma(`cache_size = -${WRITER_CACHE_KIB}`)
    migrate(drizzle({ client, schema }), { migrationsFolder: MIGRATIONS_DIR })
    const extensions = options.extensions ?? []
    for (const extension of extensions) extension.attach(client)
    if (options.writer === 'worker') {
      const descriptors = extensions.map((extension) => {
        if (extension.worker === undefined) throw new Error('an extension without a worker descriptor')
        return extension.worker
      })
      const writer = new ThreadWriter(
        {
          file,
          busyTimeoutMs,
          cacheKiB: WRITER_CACHE_KIB,
          autocheckpointPages: checkpoint === 'background' ? BACKSTOP_PAGES : INLINE_PAGES,
          extensions: descriptors,
        },
        extensions,
        writeFailed(file),
      )
      return new Ledger(client, file, busyTimeoutMs, writer, checkpoint === 'background')
    }
    const writer = inlineWriter(client, extensions, writeFailed(file))
    return new Ledger(client, file, busyTimeoutMs, writer, checkpoint === 'background')
  } catch (cause) {
    client?.close()
    throw new LedgerError(
      'write_failed',
      `Cannot open the ledger at ${file}: ${storageFailureReason(cause, file)}`,
      {
        cause,
      },
    )
  }
}

/**
 * The audit ledger. Writes are group-committed: see `append`. Reads run on the event loop's
 * connection (`query`, `stats`, both bounded) or on a private read-only connection (`iterate`,
 * `exportTo`), so a long export never blocks the writer.
 */
export class Ledger {
  private readonly statements = new Map<string, Statement>()
  private readonly readers = new Set<Database.Database>()
  private checkpointer: BackgroundCheckpointer | null = null
  private closed = false

  /** Use `openLedger`. */
  constructor(
    private readonly db: Database.Database,
    private readonly file: string,
    private readonly busyTimeoutMs: number,
    private readonly batcher: Writer,
    backgroundCheckpoint = false,
  ) {
    if (backgroundCheckpoint) this.checkpointInBackground()
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
    await this.batcher.flush()
  }

  /** Group-commit counters, for metrics. */
  get metrics(): LedgerMetrics {
    return this.batcher.metrics()
  }

  /** See `OpenLedgerOptions.checkpoint`. */
  private checkpointInBackground(): void {
    this.db.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`)
    this.checkpointer = new BackgroundCheckpointer(this.file, () => {
      // The worker is gone: the inline writer checkpoints again, as SQLite does by default; the
      // writer thread keeps its backstop (BACKSTOP_PAGES), which still bounds the log.
      this.checkpointer = null
      if (!this.closed) this.db.pragma(`wal_autocheckpoint = ${INLINE_PAGES}`)
    })
  }

  /**
   * Null while this build understands the file; else what a newer Aegis changed (a migration this
   * build does not know): a process writing to it must stop. Reads drizzle's migrations table only.
   */
  newerSchema(): string | null {
    if (this.closed) return null
    knownMigrations ??= new Set(
      readMigrationFiles({ migrationsFolder: MIGRATIONS_DIR }).map((m) => m.folderMillis),
    )
    const known = knownMigrations
    const rows = this.db.prepare('SELECT created_at FROM __drizzle_migrations').all() as {
      created_at: unknown
    }[]
    return rows.some((r) => !known.has(Number(r.created_at)))
      ? `the ledger (${this.file}) holds a migration this aegis does not know`
      : null
  }

  /** Flushes queued appends and completions, then closes every connection. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    try {
      await this.batcher.close()
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
