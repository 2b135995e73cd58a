import { keyCheckContext, open, seal, vaultStateContext } from './crypto.js'
import { VaultError } from './errors.js'
import { ROW_TABLES, type RowSets } from './row-set.js'

/**
 * Vault formats (SQLite `meta.format_version`, PostgreSQL `vaults.format_version`):
 * - `1`: nothing sealed; the key check is a constant sealed under the v1 context.
 * - `2`: every credential row carries a seal of its settings; the key check is the sealed
 *   `VaultState`, which says `format: 2`.
 * - `3`: agent and grant rows are sealed too; the sealed state says `format: 3`.
 * - `4`: the sealed state also holds a MAC over the set of current rows of each table (see
 *   row-set.ts), and row seals use a new subkey, so a row sealed at 4 fails the seal of an older
 *   format: an older key check put back cannot have the rows written since accepted as its own.
 * - `5`: a credential's secret envelope is part of the set of rows too (a rotated secret's old
 *   envelope put back is refused), and row seals use yet another subkey, for the same reason as at 4.
 * Opening an older vault with its key upgrades it in one transaction: each row the old format left
 * unsealed is sealed as it is, each row whose old seal holds is sealed under the new subkey (a row
 * that fails it keeps failing), then the state is written with the MACs of the rows. From 4, each
 * table is first compared with the set the format-4 state recorded: a table that does not match is
 * recorded as matching no rows (`UNMATCHED_ROW_SET`), so it stays refused until a restore or a reseal.
 *
 * No marker can be stripped without the key: the stored format must be the one the sealed state
 * names (a v1 key check for `1`), and a vault created at a format never had a state of an older one.
 */
export const LEGACY_FORMAT = '1'
/** Credential rows sealed; agents and grants not yet (upgraded on open). */
export const CREDENTIALS_SEALED_FORMAT = '2'
/** Every row sealed (under the first seal subkey); the set of rows not yet authenticated. */
export const ROWS_SEALED_FORMAT = '3'
/** Every row sealed and the set of rows authenticated, secret envelopes not in it. */
export const ROW_SETS_FORMAT = '4'
/** The set of rows covers the secret envelopes too: what new vaults are created at. */
export const SEALED_FORMAT = '5'
/** Every format a vault may be stored at. */
export const KNOWN_FORMATS: readonly string[] = [
  LEGACY_FORMAT,
  CREDENTIALS_SEALED_FORMAT,
  ROWS_SEALED_FORMAT,
  ROW_SETS_FORMAT,
  SEALED_FORMAT,
]

/** Facts about a vault that only the master key can write (the plaintext of its key check). */
export interface VaultState {
  /** When RBAC was turned on for this install (its first user added), or null: still bootstrap. */
  rbacSince: string | null
  /**
   * The MAC of each table's current rows (at a format-4 state: its format-4 sets, see
   * `format4RowSetMacs`); null only in the state of a format older than 4.
   */
  rows: RowSets | null
}

const STATE_LABEL = 'aegis-vault-state'

/** The sealed state stored as the key check of a vault at the current format. */
export function makeVaultState(
  vaultName: string,
  key: Buffer,
  state: { rbacSince: string | null; rows: RowSets },
): Buffer {
  const plaintext = JSON.stringify({
    label: STATE_LABEL,
    format: Number(SEALED_FORMAT),
    rbacSince: state.rbacSince,
    rows: state.rows,
  })
  return seal(key, plaintext, vaultStateContext(vaultName))
}

function opensAs(key: Buffer, check: Buffer, context: string): Buffer | null {
  try {
    return open(key, check, context)
  } catch {
    return null
  }
}

/**
 * `legacy`: a format-1 vault the key opens (to be upgraded); else its verified state and the format
 * the state names (`2`: its agents and grants are still to be sealed).
 */
export type KeyCheckResult = { kind: 'legacy' } | { kind: 'sealed'; format: string; state: VaultState }

/**
 * Verifies the key against a vault's stored format and key check. Throws `invalid_master_key`
 * when the key opens neither, and `corrupt` when the format and the check disagree (a vault edited
 * to look older, so that its unsealed rows would be accepted and sealed).
 */
export function checkVaultKey(vaultName: string, key: Buffer, format: string, check: Buffer): KeyCheckResult {
  const plaintext = opensAs(key, check, vaultStateContext(vaultName))
  if (plaintext !== null) {
    const sealed = parseState(vaultName, plaintext)
    if (format !== sealed.format) throw downgraded(vaultName)
    return { kind: 'sealed', ...sealed }
  }
  if (opensAs(key, check, keyCheckContext(vaultName)) !== null) {
    if (format !== LEGACY_FORMAT) throw downgraded(vaultName)
    return { kind: 'legacy' }
  }
  throw new VaultError('invalid_master_key', 'Invalid master key')
}

/** The state in a vault's sealed key check, whatever format it names; throws as `checkVaultKey`. */
export function openVaultState(vaultName: string, key: Buffer, check: Buffer): VaultState {
  const plaintext = opensAs(key, check, vaultStateContext(vaultName))
  if (plaintext === null) {
    if (opensAs(key, check, keyCheckContext(vaultName)) !== null) {
      throw new VaultError('corrupt', `Vault "${vaultName}" has no sealed state`)
    }
    throw new VaultError('invalid_master_key', 'Invalid master key')
  }
  return parseState(vaultName, plaintext).state
}

/** Whether `check` is the state of a format-2 vault under this key (false once destroyed and re-created). */
export function opensVaultState(vaultName: string, key: Buffer, check: Buffer): boolean {
  return opensAs(key, check, vaultStateContext(vaultName)) !== null
}

function parseState(vaultName: string, plaintext: Buffer): { format: string; state: VaultState } {
  try {
    const value = JSON.parse(plaintext.toString('utf8')) as Record<string, unknown>
    const since = value.rbacSince
    const format = String(value.format)
    const hasRows = format === ROW_SETS_FORMAT || format === SEALED_FORMAT
    const rows = hasRows ? parseRowSets(value.rows) : null
    if (
      value.label === STATE_LABEL &&
      [CREDENTIALS_SEALED_FORMAT, ROWS_SEALED_FORMAT, ROW_SETS_FORMAT, SEALED_FORMAT].includes(format) &&
      (since === null || typeof since === 'string') &&
      rows !== undefined
    ) {
      return { format, state: { rbacSince: since, rows: rows ?? null } }
    }
  } catch {
    // fall through
  }
  throw new VaultError('corrupt', `The sealed state of vault "${vaultName}" is unreadable`)
}

function parseRowSets(value: unknown): RowSets | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const sets = value as Record<string, unknown>
  return ROW_TABLES.every((t) => typeof sets[t] === 'string') ? (sets as RowSets) : undefined
}

function downgraded(vaultName: string): VaultError {
  return new VaultError(
    'corrupt',
    `Vault "${vaultName}": its stored format does not match its key check (the database was edited to strip the row seals); refused: restore the vault from a backup`,
  )
}
