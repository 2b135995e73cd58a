import { VaultError } from '../errors.js'
import { forgetVaultKeys } from '../keycache.js'
import { openVault } from '../manage.js'
import { sqliteVaultStore, type VaultStore } from '../store.js'
import type { Vault } from '../vault.js'
import { CustodyError } from './errors.js'
import { passesKeyCheck } from './key-check.js'
import { PendingShares } from './pending-shares.js'
import { readCustody, requireCustody } from './record.js'

export interface SealableVaultOptions {
  dataDir: string
  /** The vault to serve once unsealed. */
  name: string
  /** How long shares given so far are kept while more are awaited, ms. Default 10 minutes. */
  unsealTimeoutMs?: number
  /** The configured salt, which must be the vault's own (see `OpenVaultOptions.salt`). */
  salt?: Buffer
}

/** Where an unseal stands: `threshold` is null when the key was never split. */
export interface UnsealStatus {
  sealed: boolean
  threshold: number | null
  /** Shares accepted so far towards the threshold. */
  progress: number
}

const EMPTY_LOAD = Object.freeze({ credentials: Object.freeze([]), unavailable: Object.freeze([]) })

/**
 * A vault a long-running process (the gate) can hold sealed: it starts without a key, is unsealed
 * with a key or share by share, and sealed again at any time. It is a credential source for the
 * gate (`isSealed()` says to refuse everything) and keeps the key in memory only; `seal()` closes
 * the vault and zeroes the key and every derived key.
 */
export class SealableVault {
  readonly #dataDir: string
  readonly #name: string
  readonly #salt: Buffer | undefined
  readonly #shares: PendingShares
  #vault: Vault | null = null
  #key: Buffer | null = null
  #generation = 0

  constructor(options: SealableVaultOptions) {
    this.#dataDir = options.dataDir
    this.#name = options.name
    this.#shares = new PendingShares(options.unsealTimeoutMs ?? 10 * 60_000)
    this.#salt = options.salt
  }

  get name(): string {
    return this.#name
  }

  isSealed(): boolean {
    return this.#vault === null
  }

  status(): UnsealStatus {
    const custody = readCustody(this.#dataDir)
    return { sealed: this.isSealed(), threshold: custody?.threshold ?? null, progress: this.#shares.count }
  }

  /**
   * Unseals with the whole key (from AEGIS_MASTER_KEY, unsealed.key or rebuilt shares): proven
   * against the custody key check when the key is split, then used to open the vault. The key is
   * copied; the caller zeroes its own buffer.
   */
  unsealWith(masterKey: Buffer): void {
    const custody = readCustody(this.#dataDir)
    if (custody !== null && !passesKeyCheck(masterKey, custody.keyCheck)) {
      throw new CustodyError(
        'key_check_failed',
        `Invalid master key: it fails the key check of split ${custody.setId}`,
      )
    }
    // Sealed first: sealing zeroes every cached derived key, which the new vault would share.
    this.seal()
    this.#vault = openVault({
      dataDir: this.#dataDir,
      name: this.#name,
      masterKey: masterKey.toString('utf8'),
      ...(this.#salt === undefined ? {} : { salt: this.#salt }),
    })
    this.#key = Buffer.from(masterKey)
    this.#generation++
  }

  /**
   * The vault on a connection of its own, opened with the key this process holds: what a reader in
   * the same process (the dashboard beside the gate) uses when the key was never on disk, only sent
   * to the gate over its admin socket. The caller closes it. Throws `Vault is sealed` while sealed.
   */
  openStore(): VaultStore {
    if (this.#key === null) throw new VaultError('io', 'Vault is sealed')
    return sqliteVaultStore(
      openVault({
        dataDir: this.#dataDir,
        name: this.#name,
        masterKey: this.#key.toString('utf8'),
        ...(this.#salt === undefined ? {} : { salt: this.#salt }),
      }),
    )
  }

  /** Adds one share; at the threshold the key is rebuilt, checked and the vault opened. */
  submitShare(share: string): Promise<UnsealStatus> {
    return this.#shares.serial(() => this.#submit(share))
  }

  async #submit(text: string): Promise<UnsealStatus> {
    if (!this.isSealed()) return this.status()
    const key = await this.#shares.offer(text, requireCustody(this.#dataDir))
    if (key === null) return this.status()
    try {
      this.unsealWith(key)
    } finally {
      key.fill(0)
    }
    return this.status()
  }

  /** Forgets the shares given so far. */
  resetShares(): UnsealStatus {
    this.#shares.clear()
    return this.status()
  }

  /** Closes the vault, zeroes the key and the derived keys, forgets pending shares. Idempotent. */
  seal(): void {
    const wasOpen = this.#vault !== null
    this.#vault?.close()
    this.#vault = null
    this.#key?.fill(0)
    this.#key = null
    if (wasOpen) forgetVaultKeys()
    this.#shares.clear()
    this.#generation++
  }

  close(): void {
    this.seal()
  }

  // The credential source the gate reads (structurally @aegis/proxy's CredentialSource).
  /** `Vault.sealSecret` while unsealed. */
  /**
   * When RBAC was turned on, as the open vault's sealed state says (see `Vault.rbacSince`); null
   * while sealed (no key to read it with) or when it never was.
   */
  rbacSince(): string | null {
    return this.#vault?.rbacSince() ?? null
  }

  /**
   * Records (sealed) that RBAC is on since `since`, unless the vault already says so
   * (`Vault.recordRbacOn`). Only while unsealed: a vault whose key is split learns it at the first
   * unseal after the first user was added.
   */
  recordRbacOn(since: string): void {
    if (this.#vault === null) throw new VaultError('io', 'Vault is sealed')
    this.#vault.recordRbacOn(since)
  }

  sealSecret(purpose: string, plaintext: string): Buffer {
    if (this.#vault === null) throw new VaultError('io', 'Vault is sealed')
    return this.#vault.sealSecret(purpose, plaintext)
  }

  /** `Vault.openSecret` while unsealed; a sealed gate cannot open (nor sign with) anything. */
  openSecret(purpose: string, envelope: Buffer): string {
    if (this.#vault === null) throw new VaultError('io', 'Vault is sealed')
    return this.#vault.openSecret(purpose, envelope)
  }

  /** `Vault.newerSchema` while unsealed; null while sealed (nothing is written then). */
  newerSchema(): string | null {
    return this.#vault?.newerSchema() ?? null
  }

  loadAll(): ReturnType<Vault['loadAll']> {
    return this.#vault?.loadAll() ?? []
  }

  loadCredentials(): ReturnType<Vault['loadCredentials']> {
    return this.#vault?.loadCredentials() ?? (EMPTY_LOAD as unknown as ReturnType<Vault['loadCredentials']>)
  }

  loadAgents(): ReturnType<Vault['loadAgents']> {
    return this.#vault?.loadAgents() ?? []
  }

  changeToken(): string {
    const vault = this.#vault
    return vault === null ? `sealed:${this.#generation}` : `${this.#generation}:${vault.changeToken()}`
  }
}
