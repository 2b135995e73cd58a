import type { VaultCipher } from './cipher.js'
import { type RowSets, type StoredRowSets, UNMATCHED_ROW_SET } from './row-set.js'
import type { SealedAgent, SealedGrant, SealedSettings } from './settings-seal.js'
import { CREDENTIALS_SEALED_FORMAT, LEGACY_FORMAT, ROW_SETS_FORMAT } from './vault-format.js'

// The seal a row gets, and the sets the state records, when a vault is upgraded to the current
// format; shared by both engines.

type Row =
  | { kind: 'credential'; row: SealedSettings }
  | { kind: 'agent'; row: SealedAgent }
  | { kind: 'grant'; row: SealedGrant }

/** Whether the format `from` had no seal for rows of this kind (they are sealed as they are). */
function unsealedAt(kind: Row['kind'], from: string): boolean {
  return from === LEGACY_FORMAT || (kind !== 'credential' && from === CREDENTIALS_SEALED_FORMAT)
}

/**
 * The row's seal at the current format, or null to leave it as it is (it then fails its seal):
 * a row the old format did not seal (seal NULL) is sealed as it is; a sealed row only when its
 * old seal holds. A row sealed by a newer format (an older key check put back over newer rows)
 * or edited outside Aegis is never given a valid seal.
 */
export function upgradedSeal(cipher: VaultCipher, from: string, row: Row, seal: unknown): Buffer | null {
  const asItIs = seal === null && unsealedAt(row.kind, from)
  if (!asItIs && !cipher.matchesFormerSeal(from, row, seal)) return null
  if (row.kind === 'credential') return cipher.sealSettings(row.row)
  if (row.kind === 'agent') return cipher.sealAgent(row.row)
  return cipher.sealGrant(row.row)
}

/**
 * The sets the upgraded state records: those of the rows as the upgrade leaves them (`after`),
 * except, from format 4, for each table whose rows as they were stored (`before`) are not the set
 * the format-4 state `check` recorded: it is recorded as matching no rows, so the upgrade never
 * accepts rows changed outside Aegis (the table stays refused, named, until a restore or a reseal).
 */
export function upgradedRowSets(
  cipher: VaultCipher,
  from: string,
  check: Buffer,
  before: StoredRowSets,
  after: StoredRowSets,
): RowSets {
  const sets = cipher.rowSets(after)
  if (from !== ROW_SETS_FORMAT) return sets
  for (const table of cipher.format4ChangedTables(check, before)) sets[table] = UNMATCHED_ROW_SET
  return sets
}
