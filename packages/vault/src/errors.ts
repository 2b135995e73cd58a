import { accessSync, constants, statfsSync } from 'node:fs'
import { dirname } from 'node:path'

/** Stable machine-readable reasons a vault operation failed. */
export type VaultErrorCode =
  | 'invalid_master_key'
  | 'no_vault'
  | 'exists'
  | 'not_found'
  | 'duplicate'
  | 'invalid_input'
  | 'corrupt'
  | 'io'

/**
 * The only error type the vault throws on purpose. The message is one line, meant for users, and
 * never contains a secret or the master key.
 */
export class VaultError extends Error {
  override readonly name = 'VaultError'
  readonly code: VaultErrorCode

  constructor(code: VaultErrorCode, message: string) {
    super(message)
    this.code = code
  }
}

/** The two ways out for a vault's database file that cannot be used: a backup, or a new workspace. */
const DATABASE_WAY_OUT =
  '(restore it from a backup, or move the data directory aside and run aegis init for a new, empty one)'

/**
 * `Database file is corrupted: <path>` — the one message for a DB file sqlite cannot use — with
 * the ways out (the brief's troubleshooting fix).
 */
export function corruptDatabase(file: string): VaultError {
  return new VaultError('corrupt', `Database file is corrupted: ${file} ${DATABASE_WAY_OUT}`)
}

/**
 * A vault stored at a format this release does not know yet but a later one wrote (a number past
 * the newest it reads): nothing is wrong with it, and nothing was changed — the way out is the
 * newer Aegis, never a new workspace. `where` names the file or `PostgreSQL`.
 */
export function newerFormat(vaultName: string, where: string, format: string, newest: string): VaultError {
  return new VaultError(
    'corrupt',
    `Vault "${vaultName}" (${where}) was written by a newer release of Aegis (vault format ${format}; this one reads up to ${newest}): run that release or a later one; nothing was changed`,
  )
}

/** True when `format` is a whole number past `newest`: a later release's format, not damage. */
export function isNewerFormat(format: string, newest: string): boolean {
  return /^[1-9][0-9]{0,5}$/.test(format) && Number(format) > Number(newest)
}

/** `Database file is missing: <path>`: the registry names a vault whose file is gone. */
export function missingDatabase(file: string): VaultError {
  return new VaultError('corrupt', `Database file is missing: ${file} ${DATABASE_WAY_OUT}`)
}

/** The codes for a file that is not (or no longer) a database: the only ones that mean damage. */
const CORRUPT_SQLITE_CODES = /^SQLITE_(NOTADB|CORRUPT)/

/**
 * Codes for a file the system could not open, read or write: a full disk, a read-only mount, a
 * missing permission, a failing device. The file may be perfectly sound, so they are never
 * reported as corruption (whose way out is to move the data directory aside).
 */
const SYSTEM_SQLITE_CODES = /^SQLITE_(FULL|IOERR|CANTOPEN)/

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

/** `Disk is full` with the file Aegis could not write, and what to do about it. */
function diskFull(file: string): VaultError {
  return new VaultError(
    'io',
    `Disk is full: cannot write ${file} (free some space on that disk and try again; the vault was not changed)`,
  )
}

/**
 * Maps an unexpected error from sqlite or the file system to a VaultError. Messages from
 * better-sqlite3 and node:fs name files and constraints, never bound values.
 */
export function toVaultError(err: unknown, file: string): VaultError {
  if (err instanceof VaultError) return err
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : ''
  if (CORRUPT_SQLITE_CODES.test(code)) return corruptDatabase(file)
  if (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY')) {
    return new VaultError('io', `Database is busy (locked by another process): ${file}`)
  }
  const system = SYSTEM_SQLITE_CODES.test(code)
  if (code.startsWith('SQLITE_READONLY') || code === 'EROFS' || (system && folderIsReadOnly(file))) {
    return new VaultError('io', `Database is read-only: ${file} (its folder or disk does not allow writing)`)
  }
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || (system && diskIsFull(file))) return diskFull(file)
  const reason = err instanceof Error ? err.message.split('\n')[0] : 'unknown error'
  const detail = code.startsWith('SQLITE_') ? `${reason} (${code})` : reason
  return new VaultError('io', `Vault I/O error on ${file}: ${detail}`)
}
