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
} from './types.js'

/**
 * Either engine's ledger: the embedded SQLite `Ledger` (through `sqliteLedgerStore`) or the
 * PostgreSQL `PgLedger`. Same semantics as `Ledger`, same `LedgerError` codes; every read is a
 * promise. It is also structurally the gate's `AuditSink` (`append`, `complete`, `system`).
 */
export interface LedgerStore {
  readonly engine: 'sqlite' | 'postgres'
  /** Resolves with the entry's id only after the transaction holding it committed. */
  append(entry: LedgerEntryInput): Promise<number>
  /** Batched with the next write, fire-and-forget (see `Ledger.complete`). */
  complete(id: number, outcome: LedgerOutcome): void
  system(event: string, detail?: string): Promise<number>
  query(filter?: LedgerFilter): Promise<LedgerEntry[]>
  entries(ids: readonly number[]): Promise<LedgerEntry[]>
  timeline(range: LedgerRange & { bucketSeconds: number }): Promise<TimelineBucket[]>
  window(range: LedgerRange): Promise<LedgerWindow>
  blockedGroups(range: LedgerRange & { limit?: number; byAgent?: boolean }): Promise<BlockedGroup[]>
  stats(filter?: LedgerStatsFilter): Promise<LedgerStats>
  /** Matching entries oldest first, read in bounded pieces (for export). */
  iterate(filter?: LedgerFilter): AsyncIterable<LedgerEntry>
  /** Group-commit counters, for metrics. */
  readonly metrics: LedgerMetrics
  /** Writes everything queued now; rejects if that write failed. */
  flush(): Promise<void>
  /** Flushes, then releases what the store opened itself (never a pool the host passed in). */
  close(): Promise<void>
}
