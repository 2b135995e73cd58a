import { readFileSync } from 'node:fs'

/** Why a custody operation (split, unseal, seal) was refused. */
export type CustodyErrorCode =
  | 'invalid_input'
  | 'not_split'
  | 'malformed_share'
  | 'unsupported_share'
  | 'checksum'
  | 'mixed_sets'
  | 'foreign_share'
  | 'duplicate_share'
  | 'too_few_shares'
  | 'key_check_failed'
  | 'corrupt'
  | 'changed'

/**
 * The error every custody function throws on purpose. The message is one line for the operator:
 * it names a share by its position in the input (1-based) and never quotes a share or a key.
 */
export class CustodyError extends Error {
  override readonly name = 'CustodyError'
  readonly code: CustodyErrorCode

  constructor(code: CustodyErrorCode, message: string) {
    super(message)
    this.code = code
  }
}

/** A custody file's text, or null when it does not exist; any other read failure is `corrupt`. */
export function readCustodyFile(file: string): string | null {
  try {
    return readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw new CustodyError('corrupt', `Cannot read ${file}: ${(err as NodeJS.ErrnoException).code}`)
  }
}
