import type { PoolClient } from 'pg'
import type { Decision, LedgerEntry } from '../types.js'

/**
 * A table that must change in the same PostgreSQL transaction as the ledger entries that caused
 * it (the webhook outbox): the PostgreSQL counterpart of `LedgerExtension`. Its tables come from
 * its own migrations, so there is no `attach`.
 */
export interface PgLedgerExtension {
  /** Only entries with one of these decisions are passed to `written` (all when absent). */
  readonly decisions?: readonly Decision[]
  /**
   * Called inside the batch transaction (`tx` holds it open) with the entries it inserted and
   * those a completion gave a new decision, in that order. One that rejects fails the whole batch:
   * its appends reject and nothing of it commits.
   */
  written(tx: PoolClient, entries: readonly LedgerEntry[]): Promise<void>
}
