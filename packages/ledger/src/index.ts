export { LedgerError, type LedgerErrorCode } from './errors.js'
export { CSV_COLUMNS, neutraliseFormula } from './export.js'
export { Ledger, MIGRATIONS_DIR, type OpenLedgerOptions, openLedger } from './ledger.js'
export { entries } from './schema.js'
export { parseSince } from './since.js'
export type {
  Decision,
  ExportFormat,
  LedgerEntry,
  LedgerEntryInput,
  LedgerFilter,
  LedgerMetrics,
  LedgerOutcome,
  LedgerStats,
  LedgerStatsFilter,
  RequestChannel,
  RequestDecision,
} from './types.js'
