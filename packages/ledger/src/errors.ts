import { accessSync, constants, statfsSync } from 'node:fs'
import { dirname } from 'node:path'

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

/** True when the folder holding `file` may not be written (a read-only mount, no permission). */
function folderIsReadOnly(file: string): boolean {
  try {
    accessSync(dirname(file), constants.W_OK)
    return false
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    return code === 'EROFS' || code === 'EACCES' || code === 'EPERM'
  }
}

/** True when the file system holding `file` has no free block left (false when it cannot tell). */
function diskIsFull(file: string): boolean {
  try {
    return statfsSync(dirname(file)).bavail === 0
  } catch {
    return false
  }
}

/**
 * Why the ledger file could not be opened or written, in words a user can act on: a damaged file,
 * a full disk, a read-only folder, a missing permission — else SQLite's or the system's own reason.
 */
export function storageFailureReason(cause: unknown, file: string): string {
  const driver = (cause as { cause?: unknown } | null)?.cause ?? cause
  const code = String((driver as { code?: unknown } | null)?.code ?? '')
  const message = driver instanceof Error ? (driver.message.split('\n')[0] ?? '') : String(driver)
  if (/^SQLITE_(NOTADB|CORRUPT)/.test(code)) {
    return 'the file is not a ledger database (corrupted): restore it from a backup, or move it aside for a new, empty ledger'
  }
  const system = /^SQLITE_(IOERR|CANTOPEN)/.test(code)
  if (code.startsWith('SQLITE_READONLY') || code === 'EROFS' || (system && folderIsReadOnly(file))) {
    return 'the file or its folder is read-only'
  }
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || (system && diskIsFull(file))) {
    return 'the disk is full: free some space on it and try again'
  }
  if (code === 'EACCES' || code === 'EPERM') return `permission denied (${message})`
  return code.startsWith('SQLITE_') ? `${message} (${code})` : message
}
