import { randomBytes } from 'node:crypto'
import { split } from 'shamir-secret-sharing'
import { encodeShare } from './envelope.js'
import { CustodyError } from './errors.js'
import { createKeyCheck } from './key-check.js'
import type { CustodyRecord } from './record.js'

/** What is wrong with a split's parameters, naming the parameter; null when they are fine. */
export function splitParameterProblem(
  shares: number,
  threshold: number,
): { field: 'shares' | 'threshold'; message: string } | null {
  // The library refuses a threshold of 1 (it would be a copy of the key, not a share of it).
  if (!Number.isInteger(shares) || shares < 2 || shares > 255) {
    return { field: 'shares', message: `must be a whole number from 2 to 255 (got ${shares})` }
  }
  if (!Number.isInteger(threshold) || threshold < 2 || threshold > shares) {
    return {
      field: 'threshold',
      message: `must be a whole number from 2 to the number of shares, ${shares} (got ${threshold})`,
    }
  }
  return null
}

export interface SplitResult {
  record: CustodyRecord
  /** The encoded shares: shown once, stored nowhere. */
  shares: string[]
}

/**
 * Splits `masterKey` into `shares` shares, any `threshold` of which rebuild it, under a new set id.
 * Pure: writes nothing (the caller commits the record once everything else is ready).
 */
export async function splitKey(masterKey: Buffer, shares: number, threshold: number): Promise<SplitResult> {
  const problem = splitParameterProblem(shares, threshold)
  if (problem) throw new CustodyError('invalid_input', `${problem.field} ${problem.message}`)
  if (masterKey.length === 0) throw new CustodyError('invalid_input', 'The master key is empty')
  const setId = randomBytes(8).toString('hex')
  // A view, not a copy: no second buffer of the key is left for the garbage collector.
  const raw = await split(
    new Uint8Array(masterKey.buffer, masterKey.byteOffset, masterKey.length),
    shares,
    threshold,
  )
  const encoded = raw.map((bytes) => encodeShare(setId, threshold, bytes))
  for (const bytes of raw) bytes.fill(0)
  return {
    record: {
      version: 1,
      setId,
      threshold,
      shares,
      keyCheck: createKeyCheck(masterKey),
      splitAt: new Date().toISOString(),
    },
    shares: encoded,
  }
}
