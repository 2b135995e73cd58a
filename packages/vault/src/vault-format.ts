import { keyCheckContext, open, seal, vaultStateContext } from './crypto.js'
import { VaultError } from './errors.js'

/**
 * Vault formats (SQLite `meta.format_version`, PostgreSQL `vaults.format_version`):
 * - `1`: credential settings unsealed; the key check is a constant sealed under the v1 context.
 * - `2`: every credential row carries a seal of its settings; the key check is the sealed
 *   `VaultState`. Opening a format-1 vault with its key upgrades it (every row sealed, then the
 *   state written, in one transaction); a format-2 vault refuses unsealed rows.
 *
 * The format-2 marker cannot be stripped without the key: going back to `1` needs a v1 key check,
 * which a vault created at format 2 never had, and a v2 check under a `1` is refused as an edit.
 */
export const LEGACY_FORMAT = '1'
export const SEALED_FORMAT = '2'

/** Facts about a vault that only the master key can write (the plaintext of its key check). */
export interface VaultState {
  /** When RBAC was turned on for this install (its first user added), or null: still bootstrap. */
  rbacSince: string | null
}

const STATE_LABEL = 'aegis-vault-state'

/** The sealed state stored as a format-2 vault's key check. */
export function makeVaultState(vaultName: string, key: Buffer, state: VaultState): Buffer {
  const plaintext = JSON.stringify({ label: STATE_LABEL, format: 2, rbacSince: state.rbacSince })
  return seal(key, plaintext, vaultStateContext(vaultName))
}

function opensAs(key: Buffer, check: Buffer, context: string): Buffer | null {
  try {
    return open(key, check, context)
  } catch {
    return null
  }
}

/** `legacy`: a format-1 vault the key opens (to be upgraded); else its verified state. */
export type KeyCheckResult = { kind: 'legacy' } | { kind: 'sealed'; state: VaultState }

/**
 * Verifies the key against a vault's stored format and key check. Throws `invalid_master_key`
 * when the key opens neither, and `corrupt` when the format and the check disagree (a format-2
 * vault edited to look like format 1, so that its unsealed rows would be accepted and sealed).
 */
export function checkVaultKey(vaultName: string, key: Buffer, format: string, check: Buffer): KeyCheckResult {
  const state = opensAs(key, check, vaultStateContext(vaultName))
  if (state !== null) {
    if (format !== SEALED_FORMAT) throw downgraded(vaultName)
    return { kind: 'sealed', state: parseState(vaultName, state) }
  }
  if (opensAs(key, check, keyCheckContext(vaultName)) !== null) {
    if (format !== LEGACY_FORMAT) throw downgraded(vaultName)
    return { kind: 'legacy' }
  }
  throw new VaultError('invalid_master_key', 'Invalid master key')
}

/** Whether `check` is the state of a format-2 vault under this key (false once destroyed and re-created). */
export function opensVaultState(vaultName: string, key: Buffer, check: Buffer): boolean {
  return opensAs(key, check, vaultStateContext(vaultName)) !== null
}

function parseState(vaultName: string, plaintext: Buffer): VaultState {
  try {
    const value = JSON.parse(plaintext.toString('utf8')) as Record<string, unknown>
    const since = value.rbacSince
    if (value.label === STATE_LABEL && (since === null || typeof since === 'string')) {
      return { rbacSince: since }
    }
  } catch {
    // fall through
  }
  throw new VaultError('corrupt', `The sealed state of vault "${vaultName}" is unreadable`)
}

function downgraded(vaultName: string): VaultError {
  return new VaultError(
    'corrupt',
    `Vault "${vaultName}": its stored format does not match its key check (the database was edited to strip the credential seals); refused: restore the vault from a backup`,
  )
}
