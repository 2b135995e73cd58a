export { LedgerError, type LedgerErrorCode } from './errors.js'
export { CSV_COLUMNS, exportLedger } from './export.js'
// The drizzle table, the migrations folder and the CSV formula guard are internals (tests import
// them from their own files); the rows' shape is `LedgerEntry`.
export { Ledger, type LedgerExtension, type OpenLedgerOptions, openLedger } from './ledger.js'
export type { PgLedgerExtension } from './pg/extension.js'
export { type OpenPgLedgerOptions, openPgLedger, PgLedger } from './pg/ledger.js'
export { LEDGER_PG_MIGRATIONS } from './pg-migrations.js'
export { parseSince } from './since.js'
export { sqliteLedgerStore } from './sqlite-store.js'
export type { LedgerStore } from './store.js'
export type {
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
  RequestChannel,
  RequestDecision,
  TimelineBucket,
} from './types.js'
export type { WorkerExtensionDescriptor } from './writer-protocol.js'
