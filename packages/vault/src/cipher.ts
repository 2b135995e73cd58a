import {
  credentialContext,
  format4RowSealKey,
  open,
  rowSealKey,
  seal,
  sealedSecretContext,
  settingsSealKey,
} from './crypto.js'
import { VaultError } from './errors.js'
import {
  changedRowTable,
  format4RowSetMacs,
  ROW_TABLES,
  type RowSets,
  type RowTable,
  rowSetDiffers,
  rowSetMacs,
  type StoredRowSets,
} from './row-set.js'
import { Secret } from './secret.js'
import {
  agentMatchesSeal,
  grantMatchesSeal,
  type SealedAgent,
  type SealedGrant,
  type SealedSettings,
  sealAgent,
  sealGrant,
  sealSettings,
  settingsMatchSeal,
} from './settings-seal.js'
import {
  makeVaultState,
  opensVaultState,
  openVaultState,
  ROW_SETS_FORMAT,
  type VaultState,
} from './vault-format.js'

/**
 * One vault's derived key with the vault's name: every seal and open either engine does goes
 * through here, so the AAD contexts (vault + row, vault + purpose, key check) are the same for
 * SQLite and PostgreSQL and a ciphertext never opens under another vault or row.
 */
export class VaultCipher {
  readonly #vault: string
  readonly #key: Buffer
  readonly #sealKey: Buffer
  /** The seal subkey of formats 2 and 3. */
  readonly #formerSealKey: Buffer
  /** The seal subkey of format 4. */
  readonly #format4SealKey: Buffer

  constructor(vaultName: string, key: Buffer) {
    this.#vault = vaultName
    this.#key = key
    this.#sealKey = rowSealKey(key)
    this.#formerSealKey = settingsSealKey(key)
    this.#format4SealKey = format4RowSealKey(key)
  }

  /** Whether a row kept the seal a vault at format `from` (2, 3 or 4) gave it (to upgrade it; constant time). */
  matchesFormerSeal(
    from: string,
    row:
      | { kind: 'credential'; row: SealedSettings }
      | { kind: 'agent'; row: SealedAgent }
      | { kind: 'grant'; row: SealedGrant },
    seal: unknown,
  ): boolean {
    const key = from === ROW_SETS_FORMAT ? this.#format4SealKey : this.#formerSealKey
    if (row.kind === 'credential') return settingsMatchSeal(key, this.#vault, row.row, seal)
    if (row.kind === 'agent') return agentMatchesSeal(key, this.#vault, row.row, seal)
    return grantMatchesSeal(key, this.#vault, row.row, seal)
  }

  /** The MAC of each table's current rows (see row-set.ts). */
  rowSets(rows: StoredRowSets): RowSets {
    return rowSetMacs(this.#sealKey, this.#vault, rows)
  }

  /**
   * The tables whose rows (as they are stored before an upgrade) are not the set the format-4 state
   * `check` recorded; throws as `openState`.
   */
  format4ChangedTables(check: Buffer, rows: StoredRowSets): RowTable[] {
    const recorded = this.openState(check).rows
    if (recorded === null) return [...ROW_TABLES]
    const now = format4RowSetMacs(this.#format4SealKey, this.#vault, rows)
    return ROW_TABLES.filter((table) => rowSetDiffers(recorded[table], now[table]))
  }

  /**
   * The first table whose current rows are not the set the sealed state `check` recorded, or null.
   * Throws `invalid_master_key`/`corrupt` when the check does not open; a state without row sets
   * (older than format 4: the vault is upgraded on open) counts as every table changed, and the
   * sets of a format-4 state (put back under an open vault) never match: other subkey and encoding.
   */
  changedRows(check: Buffer, rows: StoredRowSets): RowTable | null {
    const recorded = this.openState(check).rows
    if (recorded === null) return 'credentials'
    return changedRowTable(recorded, this.rowSets(rows))
  }

  /** The sealed state `check` with the row sets of `rows` (what every write stores last). */
  resealState(check: Buffer, rows: StoredRowSets): Buffer {
    return this.sealState({ ...this.openState(check), rows: this.rowSets(rows) })
  }

  /** The seal of a credential row's settings (HMAC under a subkey of this vault's key). */
  sealSettings(settings: SealedSettings): Buffer {
    return sealSettings(this.#sealKey, this.#vault, settings)
  }

  /** Whether the stored `seal` is the one these settings have in this vault (false for NULL). */
  settingsMatchSeal(settings: SealedSettings, seal: unknown): boolean {
    return settingsMatchSeal(this.#sealKey, this.#vault, settings, seal)
  }

  /** The seal of an agent row's identity and limits. */
  sealAgent(agent: SealedAgent): Buffer {
    return sealAgent(this.#sealKey, this.#vault, agent)
  }

  /** Whether the stored `seal` is the one this agent row has in this vault (false for NULL). */
  agentMatchesSeal(agent: SealedAgent, seal: unknown): boolean {
    return agentMatchesSeal(this.#sealKey, this.#vault, agent, seal)
  }

  /** The seal of a grant, bound to its agent and credential ids. */
  sealGrant(grant: SealedGrant): Buffer {
    return sealGrant(this.#sealKey, this.#vault, grant)
  }

  /** Whether the stored `seal` is the one this grant's pair has in this vault (false for NULL). */
  grantMatchesSeal(grant: SealedGrant, seal: unknown): boolean {
    return grantMatchesSeal(this.#sealKey, this.#vault, grant, seal)
  }

  /** The envelope of a credential's secret, bound to this vault and the row id. */
  sealCredential(credentialId: string, secret: string): Buffer {
    return seal(this.#key, secret, credentialContext(this.#vault, credentialId))
  }

  /** The row's secret, or why it cannot be decrypted (one line, never any of its bytes). */
  openCredential(row: { id: string; secret: Buffer }): Secret | string {
    try {
      return new Secret(open(this.#key, row.secret, credentialContext(this.#vault, row.id)).toString('utf8'))
    } catch (err) {
      const failed = !(err instanceof VaultError) || /authentication/.test(err.message)
      return failed
        ? 'cannot be decrypted: its stored ciphertext failed authentication (modified or copied from elsewhere)'
        : `cannot be decrypted: ${err.message.replace(/^Encrypted value/, 'its stored ciphertext')}`
    }
  }

  /**
   * Whether `check` (a vault's stored key-check envelope) opens under this key: false once the
   * vault was destroyed and re-created under the same name (a new salt, so a new key).
   */
  opensKeyCheck(check: Buffer): boolean {
    return opensVaultState(this.#vault, this.#key, check)
  }

  /** The key check of a vault at the current format holding `state`. */
  sealState(state: { rbacSince: string | null; rows: RowSets }): Buffer {
    return makeVaultState(this.#vault, this.#key, state)
  }

  /** The state in a vault's sealed key check; throws `invalid_master_key` or `corrupt`. */
  openState(check: Buffer): VaultState {
    return openVaultState(this.#vault, this.#key, check)
  }

  /** See `Vault.sealSecret`. */
  sealSecret(purpose: string, plaintext: string): Buffer {
    return seal(this.#key, plaintext, sealedSecretContext(this.#vault, purpose))
  }

  /** See `Vault.openSecret`; throws VaultError `corrupt`. */
  openSecret(purpose: string, envelope: Buffer): string {
    return open(this.#key, envelope, sealedSecretContext(this.#vault, purpose)).toString('utf8')
  }
}
