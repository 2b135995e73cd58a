import { join } from 'node:path'
import { KDF } from '../crypto.js'
import { writeFileAtomic } from '../files.js'
import { withRegistryLock } from '../registry-write.js'
import { CustodyError, readCustodyFile } from './errors.js'
import type { KeyCheck } from './key-check.js'

/**
 * `<dataDir>/custody.json`: what a split left behind — never a share or the key. Its presence means
 * the master key is held as shares: the CLI needs AEGIS_MASTER_KEY or a valid unsealed.key.
 */
export interface CustodyRecord {
  version: 1
  /** Shared by every share of the current split; a re-split makes a new one. */
  setId: string
  threshold: number
  shares: number
  keyCheck: KeyCheck
  splitAt: string
}

/** `<dataDir>/custody.json` */
export function custodyPath(dataDir: string): string {
  return join(dataDir, 'custody.json')
}

const HEX = /^[0-9a-f]+$/

function isRecord(value: unknown): value is CustodyRecord {
  const r = value as Partial<CustodyRecord> | null
  const check = r?.keyCheck as Partial<KeyCheck> | undefined
  return (
    typeof r === 'object' &&
    r !== null &&
    r.version === 1 &&
    typeof r.setId === 'string' &&
    /^[0-9a-f]{16}$/.test(r.setId) &&
    Number.isInteger(r.threshold) &&
    Number.isInteger(r.shares) &&
    (r.threshold as number) >= 2 &&
    (r.shares as number) >= (r.threshold as number) &&
    (r.shares as number) <= 255 &&
    typeof r.splitAt === 'string' &&
    check?.kdf === KDF.name &&
    Number.isSafeInteger(check.iterations) &&
    (check.iterations as number) >= KDF.iterations &&
    typeof check.salt === 'string' &&
    HEX.test(check.salt) &&
    typeof check.value === 'string' &&
    /^[0-9a-f]{64}$/.test(check.value)
  )
}

/**
 * The way out of a damaged custody.json: it holds the key check shares are proven against, so it
 * comes back from a backup, or a holder of the whole key (AEGIS_MASTER_KEY, which needs no custody
 * record: opening the vault proves it) splits again, which writes a new one.
 */
const DAMAGED_CUSTODY =
  ': restore it from a backup of the data directory, or set AEGIS_MASTER_KEY to the master key and split it again (aegis vault split), which makes new shares'

/** The custody record, or null when the key was never split. A damaged file is `corrupt`. */
export function readCustody(dataDir: string): CustodyRecord | null {
  const file = custodyPath(dataDir)
  const text = readCustodyFile(file)
  if (text === null) return null
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new CustodyError('corrupt', `${file} is not valid JSON${DAMAGED_CUSTODY}`)
  }
  if (!isRecord(value))
    throw new CustodyError('corrupt', `${file} is not a valid custody record${DAMAGED_CUSTODY}`)
  return value
}

/**
 * Writes the record atomically (0600). With `expected` — the custody.json text the caller read
 * before it split, null for none — only while the file still holds exactly that, checked and
 * written under the data dir's lock: of two splits at once, one is made and the other is
 * `changed`, rather than both succeeding with one set of shares void.
 */
export function writeCustody(dataDir: string, record: CustodyRecord, expected?: string | null): void {
  const file = custodyPath(dataDir)
  const text = `${JSON.stringify(record, null, 2)}\n`
  if (expected === undefined) {
    writeFileAtomic(file, text)
    return
  }
  withRegistryLock(dataDir, () => {
    if (readCustodyFile(file) !== expected) {
      throw new CustodyError(
        'changed',
        `${file} changed while this split ran (another aegis vault split): this split was not made`,
      )
    }
    writeFileAtomic(file, text)
  })
}

/** The record, or `not_split` when there is none. */
export function requireCustody(dataDir: string): CustodyRecord {
  const record = readCustody(dataDir)
  if (record === null) {
    throw new CustodyError(
      'not_split',
      'The master key is not split into shares, so there is nothing to unseal or seal (split it first)',
    )
  }
  return record
}
