import { and, eq, sql } from 'drizzle-orm'
import type { NodePgDatabase } from 'drizzle-orm/node-postgres'
import { drizzle } from 'drizzle-orm/node-postgres'
import type { Pool } from 'pg'
import {
  duplicateAgent,
  grantedNames,
  groupPairs,
  limitedAgentRow,
  newAgentRow,
  noAgent,
  noGrantableCredential,
  refusedAgentRecord,
  regeneratedAgentRow,
  toAgentInfo,
  toAgentRecord,
} from '../agent-rows.js'
import { validateAgentName } from '../agent-validate.js'
import type { VaultCipher } from '../cipher.js'
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
} from '../credential-rows.js'
import { VaultError } from '../errors.js'
import { type RowTable, rowSetMismatch, type StoredRowSets } from '../row-set.js'
import type { AgentRow, CredentialRow } from '../schema.js'
import type { Secret } from '../secret.js'
import type { VaultStore } from '../store.js'
import { type StoredRows, storedRows } from '../stored-rows.js'
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
} from '../types.js'
import { validateCredentialName, validateSecret } from '../validate.js'
import { toPgVaultError } from './errors.js'
import * as schema from './schema.js'

const { agents, credentials, grants, vaults } = schema

export type PgVaultDb = NodePgDatabase<typeof schema>
/** A transaction or the pool-backed database: reads run on either. */
type Q = Pick<PgVaultDb, 'select' | 'insert' | 'update' | 'delete' | 'execute'>

/** The topics whose versions make up `changeToken()` (see the change triggers in drizzle-pg/). */
const TOPICS = ['vault', 'agents'] as const

/** Without the `vault` column: the row shape the shared mapper reads. */
function credentialRow({ vault: _vault, ...row }: typeof credentials.$inferSelect): CredentialRow {
  return row
}

function agentRow({ vault: _vault, ...row }: typeof agents.$inferSelect): AgentRow {
  return row
}

/**
 * One vault in PostgreSQL. Every mutation is one transaction that first locks the vault's row
 * (`SELECT … FOR UPDATE`): writers of one vault are serialised across processes exactly like
 * SQLite's `BEGIN IMMEDIATE`, so the duplicate checks and grant/revoke/remove see a settled state.
 * Reads that take several queries run in one REPEATABLE READ snapshot. Obtain with `createPgVault`
 * or `openPgVault`; the pool stays the host's.
 */
export class PgVaultStore implements VaultStore {
  readonly name: string
  readonly engine = 'postgres' as const
  readonly #db: PgVaultDb
  readonly #cipher: VaultCipher
  #closed = false

  /** @internal Use `createPgVault` or `openPgVault`. */
  constructor(pool: Pool, name: string, cipher: VaultCipher) {
    this.name = name
    this.#db = drizzle({ client: pool, schema })
    this.#cipher = cipher
  }

  async add(input: NewCredential): Promise<CredentialInfo> {
    const row = newCredentialRow(this.#cipher, input, new Date())
    return this.#write(async (tx) => {
      if (await this.#credentialRow(tx, row.name)) throw duplicateName(row.name)
      const [holder] = await tx
        .select({ name: credentials.name })
        .from(credentials)
        .where(and(eq(credentials.vault, this.name), eq(credentials.service, row.service)))
      if (holder) throw duplicateService(row.service, holder.name)
      await tx.insert(credentials).values({ ...row, vault: this.name })
      return toInfo(row)
    })
  }

  async get(name: string): Promise<Credential | undefined> {
    const valid = validateCredentialName(name)
    const row = await this.#readCurrent((db) => this.#credentialRow(db, valid))
    return row === undefined ? undefined : decryptCredential(this.#cipher, row)
  }

  async list(): Promise<CredentialInfo[]> {
    return this.#readCurrent(async (db) =>
      (await this.#credentialRows(db)).map((row) => storedInfo(this.#cipher, row)),
    )
  }

  async loadCredentials(): Promise<CredentialLoad> {
    const { keyCheck, rows, sets } = await this.#read(async (db) => {
      const [vault] = await db
        .select({ keyCheck: vaults.keyCheck })
        .from(vaults)
        .where(eq(vaults.name, this.name))
      return {
        keyCheck: vault?.keyCheck ?? null,
        rows: await this.#credentialRows(db),
        sets: await this.#storedRowSets(db),
      }
    })
    // Destroyed and created again under this name: a new salt, so a key this process lacks.
    if (keyCheck !== null && !this.#cipher.opensKeyCheck(keyCheck)) {
      return replacedVaultLoad(
        rows,
        `cannot be decrypted: vault "${this.name}" was destroyed and re-created since this process opened it (it has a new key salt); restart to serve the new vault`,
      )
    }
    const changed = keyCheck === null ? null : this.#cipher.changedRows(keyCheck, sets)
    if (changed !== null)
      return replacedVaultLoad(rows, `cannot be used: ${rowSetMismatch(this.name, changed)}`)
    return loadCredentialRows(this.#cipher, rows)
  }

  async update(name: string, patch: CredentialPatch): Promise<CredentialInfo> {
    const now = new Date()
    return this.#write(async (tx) => {
      const next = patchedCredentialRow(this.#cipher, await this.#requireCredential(tx, name), patch, now)
      await tx
        .update(credentials)
        .set({
          domains: next.domains,
          authType: next.authType,
          headerName: next.headerName,
          queryParam: next.queryParam,
          scopes: next.scopes,
          expiresAt: next.expiresAt,
          rateLimit: next.rateLimit,
          bodyInspection: next.bodyInspection,
          updatedAt: next.updatedAt,
          seal: next.seal,
        })
        .where(and(eq(credentials.vault, this.name), eq(credentials.id, next.id)))
      return toInfo(next)
    })
  }

  async rotate(name: string, secret: string | Secret): Promise<CredentialInfo> {
    const value = validateSecret(secret)
    const now = new Date()
    return this.#write(async (tx) => {
      const next = rotatedCredentialRow(this.#cipher, await this.#requireCredential(tx, name), value, now)
      await tx
        .update(credentials)
        .set({ secret: next.secret, rotatedAt: next.rotatedAt, updatedAt: next.updatedAt })
        .where(and(eq(credentials.vault, this.name), eq(credentials.id, next.id)))
      return toInfo(next)
    })
  }

  async remove(name: string): Promise<void> {
    await this.#write(async (tx) => {
      const row = await this.#requireCredential(tx, name)
      await tx.delete(credentials).where(and(eq(credentials.vault, this.name), eq(credentials.id, row.id)))
    })
  }

  async addAgent(input: NewAgent): Promise<AgentWithToken> {
    const { row, token } = newAgentRow(this.#cipher, input, new Date())
    return this.#write(async (tx) => {
      if (await this.#agentRow(tx, row.name)) throw duplicateAgent(row.name)
      await tx.insert(agents).values({ ...row, vault: this.name })
      return { agent: toAgentInfo(this.#cipher, row, []), token }
    })
  }

  async listAgents(): Promise<AgentInfo[]> {
    return this.#readCurrent(async (db) => {
      const rows = await this.#agentRows(db)
      const byAgent = groupPairs(
        await db
          .select({
            agentId: grants.agentId,
            credentialId: grants.credentialId,
            seal: grants.seal,
            name: credentials.name,
          })
          .from(grants)
          .innerJoin(credentials, eq(credentials.id, grants.credentialId))
          .where(eq(grants.vault, this.name))
          .orderBy(sql`${credentials.name} COLLATE "C"`),
        (g) => g.agentId,
        (g) => g,
      )
      return rows.map((row) =>
        toAgentInfo(this.#cipher, row, grantedNames(this.#cipher, row, byAgent.get(row.id) ?? [])),
      )
    })
  }

  async getAgent(name: string): Promise<AgentInfo | undefined> {
    const valid = validateAgentName(name)
    return this.#readCurrent(async (db) => {
      const row = await this.#agentRow(db, valid)
      return row === undefined ? undefined : this.#agentInfo(db, row)
    })
  }

  async removeAgent(name: string): Promise<void> {
    await this.#write(async (tx) => {
      const row = await this.#requireAgent(tx, name)
      await tx.delete(agents).where(and(eq(agents.vault, this.name), eq(agents.id, row.id)))
    })
  }

  async regenerateAgentToken(name: string): Promise<AgentWithToken> {
    return this.#write(async (tx) => {
      const { row, token } = regeneratedAgentRow(this.#cipher, await this.#requireAgent(tx, name), new Date())
      await tx
        .update(agents)
        .set({
          tokenHash: row.tokenHash,
          prefix: row.prefix,
          tokenRotatedAt: row.tokenRotatedAt,
          updatedAt: row.updatedAt,
          seal: row.seal,
        })
        .where(and(eq(agents.vault, this.name), eq(agents.id, row.id)))
      return { agent: await this.#agentInfo(tx, row), token }
    })
  }

  async grant(agentName: string, credentialName: string): Promise<boolean> {
    return this.#write(async (tx) => {
      const pair = await this.#pair(tx, agentName, credentialName)
      const [held] = await tx
        .select({ agentId: grants.agentId, credentialId: grants.credentialId, seal: grants.seal })
        .from(grants)
        .where(
          and(
            eq(grants.vault, this.name),
            eq(grants.agentId, pair.agentId),
            eq(grants.credentialId, pair.credentialId),
          ),
        )
      // A held grant that fails its seal (added outside Aegis) is not one: this sealed grant replaces it.
      if (held !== undefined && this.#cipher.grantMatchesSeal(held, held.seal)) return false
      const createdAt = new Date().toISOString()
      const seal = this.#cipher.sealGrant(pair)
      await tx
        .insert(grants)
        .values({ ...pair, vault: this.name, createdAt, seal })
        .onConflictDoUpdate({ target: [grants.agentId, grants.credentialId], set: { createdAt, seal } })
      return true
    })
  }

  async revoke(agentName: string, credentialName: string): Promise<boolean> {
    return this.#write(async (tx) => {
      const pair = await this.#pair(tx, agentName, credentialName)
      const removed = await tx
        .delete(grants)
        .where(
          and(
            eq(grants.vault, this.name),
            eq(grants.agentId, pair.agentId),
            eq(grants.credentialId, pair.credentialId),
          ),
        )
        .returning({ agentId: grants.agentId })
      return removed.length > 0
    })
  }

  async setAgentLimits(name: string, limits: AgentLimits): Promise<AgentInfo> {
    return this.#write(async (tx) => {
      const next = limitedAgentRow(this.#cipher, await this.#requireAgent(tx, name), limits, new Date())
      await tx
        .update(agents)
        .set({
          rateLimit: next.rateLimit,
          maxInFlight: next.maxInFlight,
          updatedAt: next.updatedAt,
          seal: next.seal,
        })
        .where(and(eq(agents.vault, this.name), eq(agents.id, next.id)))
      return this.#agentInfo(tx, next)
    })
  }

  async loadAgents(): Promise<AgentRecord[]> {
    return this.#read(async (db) => {
      const rows = await this.#agentRows(db)
      const byAgent = groupPairs(
        await db
          .select({ agentId: grants.agentId, credentialId: grants.credentialId, seal: grants.seal })
          .from(grants)
          .where(eq(grants.vault, this.name))
          .orderBy(sql`${grants.credentialId} COLLATE "C"`),
        (g) => g.agentId,
        (g) => g,
      )
      const changed = await this.#changedRows(db)
      if (changed !== null)
        return rows.map((row) => refusedAgentRecord(row, rowSetMismatch(this.name, changed)))
      return rows.map((row) => toAgentRecord(this.#cipher, row, byAgent.get(row.id) ?? []))
    })
  }

  async storedRows(): Promise<StoredRows> {
    return this.#read(async (db) =>
      storedRows(
        this.#cipher,
        await this.#changedRows(db),
        await this.#credentialRows(db),
        await this.#agentRows(db),
        await db
          .select({ agentId: grants.agentId, credentialId: grants.credentialId, seal: grants.seal })
          .from(grants)
          .where(eq(grants.vault, this.name)),
      ),
    )
  }

  async reseal(): Promise<void> {
    await this.#write(async () => undefined, { acceptRows: true })
  }

  /**
   * The versions of topics `vault` and `agents` (bumped by the change triggers at every commit,
   * by any process): one indexed read. It also moves for changes to other vaults in the database,
   * which only costs a spare reload.
   */
  async changeToken(): Promise<string> {
    this.#assertOpen()
    try {
      const result = await this.#db.execute<{ topic: string; version: string }>(
        sql`SELECT topic, version::text AS version FROM aegis.aegis_versions WHERE topic IN (${sql.join(
          TOPICS.map((t) => sql`${t}`),
          sql`, `,
        )})`,
      )
      const seen = new Map(result.rows.map((r) => [r.topic, r.version]))
      return TOPICS.map((t) => `${t}:${seen.get(t) ?? '0'}`).join(',')
    } catch (err) {
      throw toPgVaultError(err)
    }
  }

  sealSecret(purpose: string, plaintext: string): Buffer {
    this.#assertOpen()
    return this.#cipher.sealSecret(purpose, plaintext)
  }

  openSecret(purpose: string, envelope: Buffer): string {
    this.#assertOpen()
    return this.#cipher.openSecret(purpose, envelope)
  }

  /** Further calls fail with `io`; the pool is the host's and stays open. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true
  }

  async #credentialRow(db: Q, name: string): Promise<CredentialRow | undefined> {
    const [row] = await db
      .select()
      .from(credentials)
      .where(and(eq(credentials.vault, this.name), eq(credentials.name, name)))
    return row === undefined ? undefined : credentialRow(row)
  }

  async #credentialRows(db: Q): Promise<CredentialRow[]> {
    const rows = await db
      .select()
      .from(credentials)
      .where(eq(credentials.vault, this.name))
      .orderBy(sql`${credentials.name} COLLATE "C"`)
    return rows.map(credentialRow)
  }

  async #requireCredential(db: Q, name: string): Promise<CredentialRow> {
    const row = await this.#credentialRow(db, validateCredentialName(name))
    if (row === undefined) throw noCredential(name)
    return row
  }

  async #agentRow(db: Q, name: string): Promise<AgentRow | undefined> {
    const [row] = await db
      .select()
      .from(agents)
      .where(and(eq(agents.vault, this.name), eq(agents.name, name)))
    return row === undefined ? undefined : agentRow(row)
  }

  async #agentRows(db: Q): Promise<AgentRow[]> {
    const rows = await db
      .select()
      .from(agents)
      .where(eq(agents.vault, this.name))
      .orderBy(sql`${agents.name} COLLATE "C"`)
    return rows.map(agentRow)
  }

  async #requireAgent(db: Q, name: string): Promise<AgentRow> {
    const row = await this.#agentRow(db, validateAgentName(name))
    if (row === undefined) throw noAgent(name)
    return row
  }

  async #agentInfo(db: Q, row: AgentRow): Promise<AgentInfo> {
    const held = await db
      .select({
        agentId: grants.agentId,
        credentialId: grants.credentialId,
        seal: grants.seal,
        name: credentials.name,
      })
      .from(grants)
      .innerJoin(credentials, eq(credentials.id, grants.credentialId))
      .where(and(eq(grants.vault, this.name), eq(grants.agentId, row.id)))
      .orderBy(sql`${credentials.name} COLLATE "C"`)
    return toAgentInfo(this.#cipher, row, grantedNames(this.#cipher, row, held))
  }

  async #pair(
    tx: Q,
    agentName: string,
    credentialName: string,
  ): Promise<{ agentId: string; credentialId: string }> {
    const agent = await this.#requireAgent(tx, agentName)
    const [credential] = await tx
      .select({ id: credentials.id })
      .from(credentials)
      .where(
        and(eq(credentials.vault, this.name), eq(credentials.name, validateCredentialName(credentialName))),
      )
    if (credential === undefined) throw noGrantableCredential(credentialName)
    return { agentId: agent.id, credentialId: credential.id }
  }

  async #storedRowSets(db: Q): Promise<StoredRowSets> {
    return {
      credentials: await db
        .select({ seal: credentials.seal, secret: credentials.secret })
        .from(credentials)
        .where(eq(credentials.vault, this.name)),
      agents: await db.select({ seal: agents.seal }).from(agents).where(eq(agents.vault, this.name)),
      grants: await db.select({ seal: grants.seal }).from(grants).where(eq(grants.vault, this.name)),
    }
  }

  async #storedCheck(db: Q): Promise<Buffer | null> {
    const [vault] = await db
      .select({ keyCheck: vaults.keyCheck })
      .from(vaults)
      .where(eq(vaults.name, this.name))
    return vault?.keyCheck ?? null
  }

  /** The first table whose rows are not the set the sealed state records, or null. */
  async #changedRows(db: Q): Promise<RowTable | null> {
    const check = await this.#storedCheck(db)
    if (check === null) return null
    return this.#cipher.changedRows(check, await this.#storedRowSets(db))
  }

  async #requireCurrentRows(db: Q): Promise<void> {
    const changed = await this.#changedRows(db)
    if (changed !== null) {
      const text = rowSetMismatch(this.name, changed)
      throw new VaultError('corrupt', text.charAt(0).toUpperCase() + text.slice(1))
    }
  }

  /** `fn` and the check of the set of rows in one snapshot; throws `corrupt` naming the table. */
  async #readCurrent<T>(fn: (db: Q) => Promise<T>): Promise<T> {
    return this.#read(async (db) => {
      const result = await fn(db)
      await this.#requireCurrentRows(db)
      return result
    })
  }

  /** Several reads in one consistent snapshot (a single read needs no transaction). */
  async #read<T>(fn: (db: Q) => Promise<T>): Promise<T> {
    this.#assertOpen()
    try {
      return await this.#db.transaction(fn, { isolationLevel: 'repeatable read', accessMode: 'read only' })
    } catch (err) {
      throw toPgVaultError(err)
    }
  }

  /**
   * One transaction holding the vault row's lock; `no_vault` when the vault was destroyed meanwhile.
   * It first requires the rows to be the set the sealed state records (a write never launders rows
   * changed outside Aegis; `acceptRows` skips this, for `reseal`) and last records the set it leaves.
   */
  async #write<T>(fn: (tx: Q) => Promise<T>, opts: { acceptRows?: boolean } = {}): Promise<T> {
    this.#assertOpen()
    try {
      return await this.#db.transaction(async (tx) => {
        const [vault] = await tx
          .select({ name: vaults.name })
          .from(vaults)
          .where(eq(vaults.name, this.name))
          .for('update')
        if (vault === undefined) throw new VaultError('no_vault', `Vault "${this.name}" no longer exists`)
        if (opts.acceptRows !== true) await this.#requireCurrentRows(tx)
        const result = await fn(tx)
        const check = await this.#storedCheck(tx)
        if (check === null) throw new VaultError('no_vault', `Vault "${this.name}" no longer exists`)
        const keyCheck = this.#cipher.resealState(check, await this.#storedRowSets(tx))
        await tx.update(vaults).set({ keyCheck }).where(eq(vaults.name, this.name))
        return result
      })
    } catch (err) {
      throw toPgVaultError(err)
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new VaultError('io', `Vault "${this.name}" is closed`)
  }
}
