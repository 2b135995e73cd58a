import { statSync } from 'node:fs'
import { eq, sql } from 'drizzle-orm'
import { refusedAgentRecord } from './agent-rows.js'
import { AgentStore } from './agent-store.js'
import { VaultCipher } from './cipher.js'
import {
  decryptCredential,
  duplicateName,
  duplicateService,
  loadCredentialRows,
  newCredentialRow,
  noCredential,
  patchedCredentialRow,
  replacedVaultLoad,
  rotatedCredentialRow,
  storedInfo,
  toInfo,
} from './credential-rows.js'
import { type Connection, hasNewerMigrations } from './db.js'
import { isNewerFormat, toVaultError, VaultError } from './errors.js'
import { recordRbacOn, sealedRbacSince } from './rbac-state.js'
import { type RowTable, rowSetMismatch, type StoredRowSets } from './row-set.js'
import { type AgentRow, type CredentialRow, credentials, meta } from './schema.js'
import type { Secret } from './secret.js'
import { type StoredRows, storedRows } from './stored-rows.js'
import type {
  AgentInfo,
  AgentLimits,
  AgentRecord,
  AgentWithToken,
  Credential,
  CredentialInfo,
  CredentialLoad,
  CredentialPatch,
  NewAgent,
  NewCredential,
} from './types.js'
import { validateCredentialName, validateSecret } from './validate.js'
import { SEALED_FORMAT } from './vault-format.js'

/** What `createVault`/`openVault` hand to the Vault: an open, verified, migrated connection. */
export interface VaultHandle {
  name: string
  file: string
  conn: Connection
  key: Buffer
}

function prepareStatements(conn: Connection) {
  const { db, client } = conn
  const p = (name: string) => sql.placeholder(name)
  // `set()` takes SQL, not bare placeholders.
  const s = (name: string) => sql`${sql.placeholder(name)}`
  return {
    byName: db
      .select()
      .from(credentials)
      .where(eq(credentials.name, p('name')))
      .prepare(),
    byService: db
      .select({ name: credentials.name })
      .from(credentials)
      .where(eq(credentials.service, p('service')))
      .prepare(),
    all: db.select().from(credentials).orderBy(credentials.name).prepare(),
    insert: db
      .insert(credentials)
      .values({
        id: p('id'),
        name: p('name'),
        service: p('service'),
        secret: p('secret'),
        domains: p('domains'),
        authType: p('authType'),
        headerName: p('headerName'),
        queryParam: p('queryParam'),
        scopes: p('scopes'),
        expiresAt: p('expiresAt'),
        rateLimit: p('rateLimit'),
        bodyInspection: p('bodyInspection'),
        createdAt: p('createdAt'),
        updatedAt: p('updatedAt'),
        rotatedAt: p('rotatedAt'),
        seal: p('seal'),
      })
      .prepare(),
    updateFields: db
      .update(credentials)
      .set({
        domains: s('domains'),
        authType: s('authType'),
        headerName: s('headerName'),
        queryParam: s('queryParam'),
        scopes: s('scopes'),
        expiresAt: s('expiresAt'),
        rateLimit: s('rateLimit'),
        bodyInspection: s('bodyInspection'),
        updatedAt: s('updatedAt'),
        seal: s('seal'),
      })
      .where(eq(credentials.id, p('id')))
      .prepare(),
    updateSecret: db
      .update(credentials)
      .set({ secret: s('secret'), rotatedAt: s('now'), updatedAt: s('now') })
      .where(eq(credentials.id, p('id')))
      .prepare(),
    remove: db
      .delete(credentials)
      .where(eq(credentials.id, p('id')))
      .prepare(),
    dataVersion: client.prepare('PRAGMA data_version').pluck(),
    credentialSets: client.prepare('SELECT seal, secret FROM credentials'),
    agentSeals: client.prepare('SELECT seal FROM agents'),
    grantSeals: client.prepare('SELECT seal FROM grants'),
    allAgents: client.prepare(
      'SELECT id, name, token_hash AS tokenHash, prefix, rate_limit AS rateLimit, max_in_flight AS maxInFlight, seal FROM agents ORDER BY name',
    ),
    allGrants: client.prepare('SELECT agent_id AS agentId, credential_id AS credentialId, seal FROM grants'),
    keyCheck: db.select({ value: meta.value }).from(meta).where(eq(meta.key, 'key_check')).prepare(),
    setKeyCheck: db
      .update(meta)
      .set({ value: s('value') })
      .where(eq(meta.key, 'key_check'))
      .prepare(),
  }
}

type Statements = ReturnType<typeof prepareStatements>

/**
 * An open vault: one SQLite connection plus the derived key. Obtain one from `createVault` or
 * `openVault`; call `close()` when done. Every mutation runs in its own `BEGIN IMMEDIATE`
 * transaction, so several processes may write the same vault.
 */
export class Vault {
  readonly name: string
  readonly file: string
  readonly #conn: Connection
  readonly #cipher: VaultCipher
  readonly #stmts: Statements
  readonly #agents: AgentStore
  #writes = 0
  #closed = false
  /** The database file this connection opened (device and inode), or null when it has none. */
  readonly #identity: string | null | undefined
  /** Set for good once the file at `file` is gone or another one (see `changeToken`). */
  #replaced = false

  /** @internal Use `createVault` or `openVault`. */
  constructor(handle: VaultHandle) {
    this.name = handle.name
    this.file = handle.file
    this.#conn = handle.conn
    this.#cipher = new VaultCipher(handle.name, handle.key)
    this.#stmts = prepareStatements(handle.conn)
    this.#agents = new AgentStore(handle.conn, this.#cipher)
    this.#identity = fileIdentity(handle.file)
  }

  /** Adds a credential. Throws `invalid_input` or `duplicate` (name or service taken). */
  add(input: NewCredential): CredentialInfo {
    const row = newCredentialRow(this.#cipher, input, new Date())
    return this.#write(() => {
      if (this.#stmts.byName.get({ name: row.name })) throw duplicateName(row.name)
      const holder = this.#stmts.byService.get({ service: row.service })
      if (holder) throw duplicateService(row.service, holder.name)
      this.#stmts.insert.run(row)
      return toInfo(row)
    })
  }

  /** The credential with its decrypted secret, or undefined when there is none of that name. */
  get(name: string): Credential | undefined {
    const row = this.#readCurrent(() => this.#stmts.byName.get({ name: validateCredentialName(name) }))
    return row === undefined ? undefined : decryptCredential(this.#cipher, row)
  }

  /**
   * Metadata of every credential, ordered by name. Never decrypts; throws `corrupt` naming the
   * first row whose settings fail their seal or cannot be read.
   */
  list(): CredentialInfo[] {
    return this.#readCurrent(() => this.#stmts.all.all().map((row) => storedInfo(this.#cipher, row)))
  }

  /**
   * Every credential, decrypted. Throws `corrupt` naming the first row that cannot be used; the
   * gate uses `loadCredentials`, which keeps the others.
   */
  loadAll(): Credential[] {
    return this.#readCurrent(() => this.#stmts.all.all()).map((row) => decryptCredential(this.#cipher, row))
  }

  /**
   * Every credential, decrypted, for the gate's snapshot: one damaged row (a ciphertext that fails
   * authentication, unreadable settings) is listed in `unavailable` with the reason instead of
   * failing the whole load. Throws only when the database itself cannot be read.
   */
  loadCredentials(): CredentialLoad {
    const { rows, changed } = this.#read(() =>
      this.#conn.client.transaction(() => ({ rows: this.#stmts.all.all(), changed: this.#changedRows() }))(),
    )
    if (changed !== null)
      return replacedVaultLoad(rows, `cannot be used: ${rowSetMismatch(this.name, changed)}`)
    if (this.#replaced) {
      // The connection still reads the deleted file: its credentials were destroyed with the vault.
      return replacedVaultLoad(
        rows,
        `cannot be used: the file of vault "${this.name}" was deleted or replaced since this process opened it (the vault was destroyed, re-created or restored); restart to serve what is there now`,
      )
    }
    return loadCredentialRows(this.#cipher, rows)
  }

  /**
   * Changes metadata and seals the row again. `null` clears `rateLimit`, `ttlDays`/`expiresAt`.
   * Throws `not_found`, or `corrupt` when the stored settings fail their seal.
   */
  update(name: string, patch: CredentialPatch): CredentialInfo {
    const now = new Date()
    return this.#write(() => {
      const next = patchedCredentialRow(this.#cipher, this.#require(name), patch, now)
      this.#stmts.updateFields.run(next)
      return toInfo(next)
    })
  }

  /** Replaces the secret (new nonce, same binding) and sets `rotatedAt`. Throws `not_found`. */
  rotate(name: string, secret: string | Secret): CredentialInfo {
    const value = validateSecret(secret)
    const now = new Date()
    return this.#write(() => {
      const next = rotatedCredentialRow(this.#cipher, this.#require(name), value, now)
      this.#stmts.updateSecret.run({ id: next.id, secret: next.secret, now: next.updatedAt })
      return toInfo(next)
    })
  }

  /**
   * Registers an agent and returns its new token — the only time the token is available; the vault
   * keeps its SHA-256 and a 12-character display prefix. Throws `invalid_input` or `duplicate`.
   */
  addAgent(input: NewAgent): AgentWithToken {
    return this.#write(() => this.#agents.add(input))
  }

  /** Every agent (no token, no hash) with its granted credential names, ordered by name. */
  listAgents(): AgentInfo[] {
    return this.#readCurrent(() => this.#agents.list())
  }

  /** One agent, or undefined when there is none of that name. */
  getAgent(name: string): AgentInfo | undefined {
    return this.#readCurrent(() => this.#agents.get(name))
  }

  /** Deletes an agent and its grants. Throws `not_found` (`No agent named "x"`). */
  removeAgent(name: string): void {
    this.#write(() => this.#agents.remove(name))
  }

  /**
   * Replaces an agent's token: the old one stops matching at once (its hash is gone). Returns the
   * new token, once. Grants and limits are kept. Throws `not_found`.
   */
  regenerateAgentToken(name: string): AgentWithToken {
    return this.#write(() => this.#agents.regenerate(name))
  }

  /**
   * Lets an agent use a credential. Idempotent: returns false when the grant already existed.
   * Throws `not_found` naming the unknown agent or credential.
   */
  grant(agentName: string, credentialName: string): boolean {
    return this.#write(() => this.#agents.grant(agentName, credentialName))
  }

  /**
   * Takes a credential away from an agent. Idempotent: returns false when there was no such grant.
   * Throws `not_found` naming the unknown agent or credential.
   */
  revoke(agentName: string, credentialName: string): boolean {
    return this.#write(() => this.#agents.revoke(agentName, credentialName))
  }

  /** Sets or clears (`null`) an agent's rate limit and in-flight cap; absent keys are kept. */
  setAgentLimits(name: string, limits: AgentLimits): AgentInfo {
    return this.#write(() => this.#agents.setLimits(name, limits))
  }

  /** Every agent with its token hash and granted credential ids (for the gate's snapshot). */
  loadAgents(): AgentRecord[] {
    const {
      agents: loaded,
      changed,
      rows,
    } = this.#read(() =>
      this.#conn.client.transaction(() => ({
        agents: this.#agents.loadAll(),
        changed: this.#changedRows(),
        rows: this.#stmts.allAgents.all() as AgentRow[],
      }))(),
    )
    const agents =
      changed === null
        ? loaded
        : rows.map((row) => refusedAgentRecord(row, rowSetMismatch(this.name, changed)))
    // A destroyed vault's agents went with it.
    return this.#replaced ? [] : agents
  }

  /** Deletes a credential and every grant of it. Throws `not_found`. */
  remove(name: string): void {
    this.#write(() => {
      const row = this.#require(name)
      this.#stmts.remove.run({ id: row.id })
    })
  }

  /**
   * An opaque string that changes after any commit to this vault, by this connection or any other
   * (including other processes). Cheap: no table read. Poll it to know when to reload.
   */
  changeToken(): string {
    const version = this.#read(() => this.#stmts.dataVersion.get())
    // `vault destroy` deletes the file under a running gate, whose connection goes on reading the
    // deleted one (data_version never moves): one stat per poll notices, and the token moves once.
    if (!this.#replaced && typeof this.#identity === 'string') {
      const now = fileIdentity(this.file)
      // `undefined`: the stat itself failed (not "no such file"); decide at the next poll.
      if (now !== undefined && now !== this.#identity) this.#replaced = true
    }
    return `${String(version)}:${this.#writes}${this.#replaced ? ':replaced' : ''}`
  }

  /**
   * Null while this build understands the file; else what a newer Aegis changed in it since it was
   * opened (its format, or a migration this build does not know): a process holding it open must
   * stop writing. Reads the meta and migrations tables (a few rows), never a credential.
   */
  newerSchema(): string | null {
    return this.#read(() => {
      const format =
        this.#conn.db.select().from(meta).where(eq(meta.key, 'format_version')).get()?.value ?? ''
      if (isNewerFormat(format, SEALED_FORMAT)) {
        return `vault "${this.name}" (${this.file}) is in format ${format}; this aegis reads up to ${SEALED_FORMAT}`
      }
      return hasNewerMigrations(this.#conn)
        ? `vault "${this.name}" (${this.file}) holds a migration this aegis does not know`
        : null
    })
  }

  /**
   * When RBAC was turned on for this install (its first user added), as this vault's sealed state
   * says — what no edit of access.db can undo; null while it never was. Throws `corrupt`.
   */
  rbacSince(): string | null {
    return this.#read(() => sealedRbacSince(this.#conn, this.#cipher))
  }

  /** Records (sealed) that RBAC is on since `since` (ISO 8601), unless it already was; idempotent. */
  recordRbacOn(since: string): void {
    this.#write(() => recordRbacOn(this.#conn, this.#cipher, since))
  }

  /**
   * Every row as stored (never a secret, token or hash), whether each one's seal holds, and the first
   * table whose set of rows no longer matches the sealed state: what `reseal` would accept.
   */
  storedRows(): StoredRows {
    return this.#read(() =>
      this.#conn.client.transaction(() =>
        storedRows(
          this.#cipher,
          this.#changedRows(),
          this.#stmts.all.all(),
          this.#stmts.allAgents.all() as AgentRow[],
          this.#stmts.allGrants.all() as Array<{ agentId: string; credentialId: string; seal: unknown }>,
        ),
      )(),
    )
  }

  /**
   * Accepts the rows as they are now: the sealed state records their set (rows that fail their own
   * seal keep failing). For an operator who holds the key and has read `storedRows()`.
   */
  reseal(): void {
    this.#write(() => undefined, { acceptRows: true })
  }

  /**
   * Encrypts a secret that is not a credential (a webhook signing secret) as credentials are
   * (AES-256-GCM with this vault's key), bound to this vault and `purpose` (e.g. `webhook:<id>`):
   * the envelope opens nowhere else. The caller stores it.
   */
  sealSecret(purpose: string, plaintext: string): Buffer {
    this.#assertOpen()
    return this.#cipher.sealSecret(purpose, plaintext)
  }

  /** Opens what `sealSecret` made for the same purpose; throws VaultError `corrupt` otherwise. */
  openSecret(purpose: string, envelope: Buffer): string {
    this.#assertOpen()
    return this.#cipher.openSecret(purpose, envelope)
  }

  /** Closes the connection. Further calls throw `io`. Idempotent. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#conn.client.close()
  }

  #require(name: string): CredentialRow {
    const row = this.#stmts.byName.get({ name: validateCredentialName(name) })
    if (row === undefined) throw noCredential(name)
    return row
  }

  #storedRowSets(): StoredRowSets {
    return {
      credentials: this.#stmts.credentialSets.all() as StoredRowSets['credentials'],
      agents: this.#stmts.agentSeals.all() as StoredRowSets['agents'],
      grants: this.#stmts.grantSeals.all() as StoredRowSets['grants'],
    }
  }

  #storedCheck(): Buffer {
    return Buffer.from(this.#stmts.keyCheck.get()?.value ?? '', 'base64')
  }

  /** The first table whose rows are not the set the sealed state records, or null. */
  #changedRows(): RowTable | null {
    return this.#cipher.changedRows(this.#storedCheck(), this.#storedRowSets())
  }

  #requireCurrentRows(): void {
    const changed = this.#changedRows()
    if (changed !== null) throw new VaultError('corrupt', capitalized(rowSetMismatch(this.name, changed)))
  }

  /** `fn` and the check of the set of rows, in one read snapshot; throws `corrupt` naming the table. */
  #readCurrent<T>(fn: () => T): T {
    return this.#read(() =>
      this.#conn.client.transaction(() => {
        const result = fn()
        this.#requireCurrentRows()
        return result
      })(),
    )
  }

  #read<T>(fn: () => T): T {
    this.#assertOpen()
    try {
      return fn()
    } catch (err) {
      throw toVaultError(err, this.file)
    }
  }

  /**
   * `fn` in one `BEGIN IMMEDIATE` transaction that first requires the rows to be the set the sealed
   * state records (a write never launders rows changed outside Aegis) and last records the set the
   * write leaves. `acceptRows` skips the first check (`reseal`).
   */
  #write<T>(fn: () => T, opts: { acceptRows?: boolean } = {}): T {
    this.#assertOpen()
    try {
      const result = this.#conn.client
        .transaction(() => {
          if (opts.acceptRows !== true) this.#requireCurrentRows()
          const value = fn()
          const check = this.#cipher.resealState(this.#storedCheck(), this.#storedRowSets())
          this.#stmts.setKeyCheck.run({ value: check.toString('base64') })
          return value
        })
        .immediate()
      this.#writes++
      return result
    } catch (err) {
      throw toVaultError(err, this.file)
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new VaultError('io', `Vault "${this.name}" is closed`)
  }
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1)
}

/**
 * `dev:ino` of the file at `path`; null when there is none (deleted, or an in-memory database);
 * undefined when it could not be looked at.
 */
function fileIdentity(path: string): string | null | undefined {
  try {
    const stat = statSync(path, { throwIfNoEntry: false })
    return stat === undefined ? null : `${stat.dev}:${stat.ino}`
  } catch {
    return undefined
  }
}
