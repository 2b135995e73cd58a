/**
 * What a running gate holds, per storage engine: where credentials and agents come from, the
 * ledger (with the webhook outbox), who may use the admin socket, and how it all closes. The
 * runtime (`gate-runtime.ts`) is the same for both engines; only this differs.
 */
import { AccessStore, accessFile, checkAccess, commandPermission, type Permission } from '@aegis/access'
import { type LedgerStore, openLedger, sqliteLedgerStore } from '@aegis/ledger'
import type { AuditSink, CredentialSource } from '@aegis/proxy'
import type { AdminAuthorize, AdminHandlers } from '@aegis/proxy/internal'
import { type CredentialLoad, rbacRecord, readCustody, SealableVault, type VaultStore } from '@aegis/vault'
import { Outbox, type OutboxStore, sqliteOutboxStore } from '@aegis/webhooks'
import { CliError } from './errors.js'
import { ledgerPath } from './ledger-file.js'
import { saltOption } from './salt.js'
import { invalidKeyMessage } from './workspace.js'

export interface GateStateOptions {
  dataDir: string
  vaultName: string
  /** The master key as the command resolves it (throws when none is at hand). */
  masterKey: () => string
  /** The configured salt (`vault.salt`), which must be the vault's own. */
  salt?: Buffer | undefined
}

export interface GateState {
  readonly engine: 'sqlite' | 'postgres'
  readonly vault: {
    readonly name: string
    isSealed(): boolean
    /**
     * When RBAC was turned on, as the open vault's sealed state says (null: never, or no key at
     * hand; PostgreSQL keeps its users and that fact in the database).
     */
    rbacSince(): string | null
    /** The usable credentials as the gate holds them now (for the expiry check). */
    loadCredentials(): CredentialLoad
    sealSecret(purpose: string, plaintext: string): Buffer
    openSecret(purpose: string, envelope: Buffer): string
    /**
     * SQLite: the vault on its own connection, opened with the key the gate holds (also one only
     * sent to it over the admin socket); the caller closes it. Throws while sealed. PostgreSQL has
     * none: the command opens the vault with its own key.
     */
    openStore?(): VaultStore
  }
  /** What the pipeline reads credentials and agents from. */
  readonly credentials: CredentialSource
  /** Where the pipeline writes (committed before forwarded). */
  readonly audit: AuditSink
  /** The same ledger for readers (the dashboard) and system entries. */
  readonly ledger: LedgerStore
  readonly outbox: OutboxStore
  readonly adminAuthorize: AdminAuthorize
  /** The admin socket's handlers; `refresh` makes the gate re-read its source at once. */
  adminHandlers(refresh: () => void): AdminHandlers
  /** Called once the gate serves: keeps the credentials current (`refresh` as above). */
  watch(refresh: () => void): Promise<void>
  /**
   * Null while this build understands the stores it writes; else what a newer aegis migrated under
   * the running gate (one line). Asked about once a second, never per request.
   */
  newerSchema(): Promise<string | null>
  /** Closes what the state opened, after the gate and the relay stopped. */
  close(): Promise<void>
}

/** The permission the admin socket asks for (`vault unseal` / `vault seal`). */
export const ADMIN_PERMISSION: Permission = commandPermission('vault:unseal') ?? 'vault:manage'

/**
 * SQLite, as the gate has always run: the sealable vault file, the ledger file with the outbox in
 * it, the users in access.db (read on each admin call, so a user removed or demoted while the gate
 * runs loses access). Changes by other processes reach the gate through the vault's change token.
 */
export function openSqliteGateState(options: GateStateOptions): GateState {
  const { dataDir } = options
  const vault = sealableVault(dataDir, options.vaultName, options.masterKey, options.salt)
  // Webhook events are written in the same transaction as the ledger entries that raise them.
  const outbox = new Outbox()
  let ledger: ReturnType<typeof openLedger>
  try {
    // The batch transaction (and the outbox's part of it) in a writer thread: the event loop is the
    // gate's bottleneck under load, and the ledger's commits were 12–15 % of its time.
    ledger = openLedger({
      file: ledgerPath(dataDir),
      writer: 'worker',
      checkpoint: 'background',
      extensions: [outbox],
    })
  } catch (error) {
    vault.close()
    throw error
  }
  const file = accessFile(dataDir)
  // access.db deleted or emptied while the gate runs is not bootstrap: the hint, else the sealed
  // state of the vault this gate holds open (nothing to read while it is sealed).
  const rbacSince = rbacRecord(dataDir, () => vault.rbacSince())
  // No user while the vault says RBAC was turned on: the gate does not start as bootstrap, as no
  // command that opens the vault does (with users, the command itself was authorised already).
  const atStart = checkAccess({ file, token: undefined, permission: ADMIN_PERMISSION, rbacSince })
  if (!atStart.ok && atStart.code === 'users_lost') {
    void ledger.close()
    vault.close()
    throw new CliError(atStart.message)
  }
  // A first user added while no command held the key (a split key, no unsealed.key) could not be
  // recorded in the vault then: it is, now that the gate holds the key — at start, or at unseal.
  const recordRbac = () => {
    if (vault.isSealed() || vault.rbacSince() !== null) return
    const users = AccessStore.open({ file })
    try {
      const since = users?.bootstrapCompletedAt() ?? null
      if (since !== null) vault.recordRbacOn(since.toISOString())
    } catch {
      // Best effort, like the CLI's: the next start or unseal tries again; serving does not wait on it.
    } finally {
      users?.close()
    }
  }
  recordRbac()
  // Written like gate_start: a failure to record does not undo the seal or the unseal.
  const recordSystem = (event: string, detail: string) => {
    ledger.system(event, detail).catch(() => {})
  }
  return {
    engine: 'sqlite',
    vault,
    credentials: vault,
    audit: ledger,
    ledger: sqliteLedgerStore(ledger),
    outbox: sqliteOutboxStore(outbox),
    adminAuthorize: (token) => {
      const check = checkAccess({ file, token, permission: ADMIN_PERMISSION, rbacSince })
      if (!check.ok) return { ok: false, status: check.status, message: check.message }
      return check.actor.kind === 'user' ? { ok: true, caller: check.actor.name } : { ok: true }
    },
    // After an unseal or a seal the gate re-reads its source at once instead of at the next poll.
    // Both are system entries in the ledger: the sealed refusals between them have their cause there.
    adminHandlers: (refresh) => ({
      status: () => vault.status(),
      unseal: async (share, caller) => {
        const wasSealed = vault.isSealed()
        const status = await vault.submitShare(share)
        if (!status.sealed) recordRbac()
        refresh()
        if (wasSealed && !status.sealed) {
          recordSystem('vault_unsealed', `unsealed over the admin socket${byWhom(caller)}: serving`)
        }
        return status
      },
      resetUnseal: () => vault.resetShares(),
      seal: (caller) => {
        const wasSealed = vault.isSealed()
        vault.seal()
        refresh()
        if (!wasSealed) {
          recordSystem(
            'vault_sealed',
            `sealed over the admin socket${byWhom(caller)}: requests are refused (sealed)`,
          )
        }
        return vault.status()
      },
    }),
    watch: async () => {},
    newerSchema: async () => vault.newerSchema() ?? ledger.newerSchema(),
    close: async () => {
      try {
        await ledger.close()
      } finally {
        vault.close()
      }
    },
  }
}

/**
 * The active vault as a source the admin socket can seal and unseal. It starts unsealed with the
 * key at hand (AEGIS_MASTER_KEY, a valid unsealed.key, or — never split — the config), and sealed
 * when the key is split and none is at hand: the gate then holds only what an unseal sends it.
 */
function sealableVault(
  dataDir: string,
  name: string,
  masterKey: () => string,
  salt: Buffer | undefined,
): SealableVault {
  const vault = new SealableVault({ dataDir, name, ...saltOption(salt) })
  let key: string
  try {
    key = masterKey()
  } catch (error) {
    if (readCustody(dataDir) === null) throw error
    return vault
  }
  const bytes = Buffer.from(key, 'utf8')
  try {
    vault.unsealWith(bytes)
  } catch (error) {
    if ((error as { code?: unknown }).code === 'invalid_master_key') {
      throw new CliError(invalidKeyMessage(key, vault.name), { cause: error })
    }
    throw error
  } finally {
    bytes.fill(0)
  }
  return vault
}

/** ` by <user>` when a user (not bootstrap) made the call. */
function byWhom(caller: string | undefined): string {
  return caller === undefined ? '' : ` by ${caller}`
}
