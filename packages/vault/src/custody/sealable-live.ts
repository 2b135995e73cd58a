import { VaultError } from '../errors.js'
import { forgetVaultKeys } from '../keycache.js'
import { LiveCredentialSource, type LiveCredentialSourceOptions } from '../live-source.js'
import type { VaultStore } from '../store.js'
import type { AgentRecord, Credential, CredentialLoad } from '../types.js'
import { CustodyError } from './errors.js'
import { passesKeyCheck } from './key-check.js'
import { PendingShares } from './pending-shares.js'
import { readCustody, requireCustody } from './record.js'
import type { UnsealStatus } from './sealable.js'

export interface SealableLiveSourceOptions {
  /**
   * Where the custody record (threshold, key check) is. Without one (a host with no data directory)
   * a key is proven by opening the vault alone, and shares cannot be taken.
   */
  dataDir?: string
  /** The vault to serve once unsealed. */
  name: string
  /** Opens the vault with a master key in the host's storage engine (PostgreSQL). */
  open(masterKey: string): Promise<VaultStore>
  /** For the `LiveCredentialSource` each unseal opens. */
  live?: LiveCredentialSourceOptions
  /** How long shares given so far are kept while more are awaited, ms. Default 10 minutes. */
  unsealTimeoutMs?: number
}

const EMPTY_LOAD: CredentialLoad = Object.freeze({
  credentials: Object.freeze([]) as unknown as Credential[],
  unavailable: Object.freeze([]) as unknown as CredentialLoad['unavailable'],
})

/**
 * `SealableVault` for a vault in a shared store (PostgreSQL): while unsealed it is a
 * `LiveCredentialSource` over the store (a snapshot in memory, `reload()` when the store changed);
 * `seal()` drops the snapshot and the store and zeroes every derived key, and only a whole key
 * (`unsealWith`) or enough shares (`submitShare`) open it again.
 */
export class SealableLiveSource {
  readonly #options: SealableLiveSourceOptions
  readonly #shares: PendingShares
  #store: VaultStore | null = null
  #source: LiveCredentialSource | null = null
  #generation = 0

  constructor(options: SealableLiveSourceOptions) {
    this.#options = options
    this.#shares = new PendingShares(options.unsealTimeoutMs ?? 10 * 60_000)
  }

  get name(): string {
    return this.#options.name
  }

  isSealed(): boolean {
    return this.#source === null
  }

  status(): UnsealStatus {
    const custody = this.#custody()
    return { sealed: this.isSealed(), threshold: custody?.threshold ?? null, progress: this.#shares.count }
  }

  /**
   * Unseals with the whole key: proven against the custody key check when the key is split, then
   * used to open the vault and load its first snapshot. The caller zeroes its buffer. A `seal()`
   * while this runs wins: the store just opened is closed again and this rejects.
   */
  async unsealWith(masterKey: Buffer): Promise<void> {
    const custody = this.#custody()
    if (custody !== null && !passesKeyCheck(masterKey, custody.keyCheck)) {
      throw new CustodyError(
        'key_check_failed',
        `Invalid master key: it fails the key check of split ${custody.setId}`,
      )
    }
    // Sealed first: sealing zeroes every cached derived key, which the new store would share.
    this.seal()
    const generation = this.#generation
    const store = await this.#options.open(masterKey.toString('utf8'))
    let source: LiveCredentialSource
    try {
      source = await LiveCredentialSource.open(store, this.#options.live)
    } catch (error) {
      await store.close().catch(() => {})
      throw error
    }
    if (generation !== this.#generation) {
      source.close()
      await store.close().catch(() => {})
      throw new VaultError('io', 'Vault is sealed: it was sealed while it was being unsealed')
    }
    this.#store = store
    this.#source = source
    this.#generation++
  }

  /** Adds one share; at the threshold the key is rebuilt, checked and the vault opened. */
  submitShare(share: string): Promise<UnsealStatus> {
    return this.#shares.serial(async () => {
      if (!this.isSealed()) return this.status()
      const dataDir = this.#options.dataDir
      if (dataDir === undefined)
        throw new VaultError('io', 'Vault is sealed: this process takes no key shares')
      const key = await this.#shares.offer(share, requireCustody(dataDir))
      if (key === null) return this.status()
      try {
        await this.unsealWith(key)
      } finally {
        key.fill(0)
      }
      return this.status()
    })
  }

  /** Forgets the shares given so far. */
  resetShares(): UnsealStatus {
    this.#shares.clear()
    return this.status()
  }

  /**
   * Drops the snapshot (decrypted credentials) and the store, zeroes every derived key, forgets
   * pending shares. Takes effect at once (`isSealed()` is true on return). Idempotent.
   */
  seal(): void {
    const store = this.#store
    const wasOpen = store !== null
    this.#source?.close()
    this.#source = null
    this.#store = null
    if (wasOpen) {
      void store.close().catch(() => {})
      forgetVaultKeys()
    }
    this.#shares.clear()
    this.#generation++
  }

  close(): void {
    this.seal()
  }

  /** Re-reads the store (nothing while sealed); never rejects (see `LiveCredentialSource`). */
  reload(): Promise<void> {
    return this.#source?.reload() ?? Promise.resolve()
  }

  /** The open store's `sealSecret`; throws `Vault is sealed` while sealed. */
  sealSecret(purpose: string, plaintext: string): Buffer {
    if (this.#store === null) throw new VaultError('io', 'Vault is sealed')
    return this.#store.sealSecret(purpose, plaintext)
  }

  /** The open store's `openSecret`; a sealed gate cannot open (nor sign with) anything. */
  openSecret(purpose: string, envelope: Buffer): string {
    if (this.#store === null) throw new VaultError('io', 'Vault is sealed')
    return this.#store.openSecret(purpose, envelope)
  }

  // The credential source the gate reads (structurally @aegis/proxy's CredentialSource).
  loadCredentials(): CredentialLoad {
    return this.#source?.loadCredentials() ?? EMPTY_LOAD
  }

  loadAll(): Credential[] {
    return this.#source?.loadAll() ?? []
  }

  loadAgents(): AgentRecord[] {
    return this.#source?.loadAgents() ?? []
  }

  changeToken(): string {
    const source = this.#source
    return source === null ? `sealed:${this.#generation}` : `${this.#generation}:${source.changeToken()}`
  }

  #custody(): ReturnType<typeof readCustody> {
    return this.#options.dataDir === undefined ? null : readCustody(this.#options.dataDir)
  }
}
