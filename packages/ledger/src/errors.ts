/** Why a ledger operation failed. */
export type LedgerErrorCode = 'closed' | 'write_failed' | 'invalid_entry' | 'invalid_filter' | 'output_failed'

/**
 * Every failure of the ledger. The message is one line and never holds entry data beyond field
 * names; the underlying SQLite error, if any, is kept as `cause`.
 */
export class LedgerError extends Error {
  override readonly name = 'LedgerError'
  constructor(
    readonly code: LedgerErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}
