/**
 * Bootstrap (no user: every command unrestricted) ends for good once the first user is added, and
 * that fact must survive an access.db that was deleted, emptied or replaced. The vault keeps it
 * (`Vault.rbacSince`: sealed in its state, which only the master key writes) plus a plaintext hint
 * readable without the key (`rbacHint`). SQLite data directories only: PostgreSQL keeps its users
 * and the bootstrap fact in the database, not in a file beside the vault.
 */
import { existsSync } from 'node:fs'
import { lostUsersMessage } from '@aegis/access'
import type { AegisConfig } from '@aegis/config'
import { openVault, rbacHint, readCustody, readUnsealedKey, type Vault } from '@aegis/vault'
import { CliError } from './errors.js'

/** The error for a data directory whose users are gone although RBAC was turned on. */
export function lostUserStore(dataDir: string, since: string): CliError {
  return new CliError(lostUsersMessage(dataDir, since))
}

/**
 * The key a command could use without asking (AEGIS_MASTER_KEY or the config, or an unsealed
 * key once split), or undefined.
 */
export function availableMasterKey(config: AegisConfig): string | undefined {
  const dataDir = config.vault.data_dir
  try {
    const custody = readCustody(dataDir)
    if (custody === null) return config.vault.master_key || undefined
    if (process.env.AEGIS_MASTER_KEY) return process.env.AEGIS_MASTER_KEY
    const key = readUnsealedKey(dataDir, custody)
    if (key === null) return undefined
    const text = key.toString('utf8')
    key.fill(0)
    return text
  } catch {
    return undefined
  }
}

/**
 * When RBAC was turned on, as the data directory's key-less hint says (null: it does not). Checked
 * before every command that runs as bootstrap; it costs no key derivation. A hint stripped too is
 * caught where the key is used anyway: a vault opened for a bootstrap command checks its sealed
 * state (`refuseLostUsers`).
 */
export function rbacOnSince(config: AegisConfig): string | null {
  const dataDir = config.vault.data_dir
  if (!existsSync(dataDir)) return null
  return rbacHint(dataDir)
}

/**
 * For a vault just opened by a command running as bootstrap: refuses (and closes the vault) when
 * its sealed state says RBAC was turned on — access.db was deleted or emptied since.
 */
export function refuseLostUsers(vault: Vault, dataDir: string): void {
  let since: string | null
  try {
    since = vault.rbacSince()
  } catch (error) {
    vault.close()
    throw error
  }
  if (since === null) return
  vault.close()
  throw lostUserStore(dataDir, since)
}

/**
 * Records in the active vault (sealed) that RBAC is on, when it does not say so yet and a key is at
 * hand: after the first user is added, and on an authenticated command of a data directory whose
 * vault predates this record. Best effort: without a key it waits for a command that has one.
 */
export function recordRbacOn(config: AegisConfig, since = new Date().toISOString()): void {
  const dataDir = config.vault.data_dir
  if (config.storage.postgres.url !== undefined || !existsSync(dataDir)) return
  if (rbacHint(dataDir) !== null) return
  const masterKey = availableMasterKey(config)
  if (masterKey === undefined) return
  try {
    const vault = openVault({ dataDir, name: config.vault.name, masterKey })
    try {
      vault.recordRbacOn(since)
    } finally {
      vault.close()
    }
  } catch {
    // A vault that does not open is reported by the commands that use it.
  }
}
