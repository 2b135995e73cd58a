import { and, eq, sql } from 'drizzle-orm'
import {
  duplicateAgent,
  grantedNames,
  groupPairs,
  limitedAgentRow,
  newAgentRow,
  noAgent,
  noGrantableCredential,
  regeneratedAgentRow,
  toAgentInfo,
  toAgentRecord,
} from './agent-rows.js'
import { validateAgentName } from './agent-validate.js'
import type { VaultCipher } from './cipher.js'
import type { Connection } from './db.js'
import { type AgentRow, agents, credentials, grants } from './schema.js'
import type { AgentInfo, AgentLimits, AgentRecord, AgentWithToken, NewAgent } from './types.js'
import { validateCredentialName } from './validate.js'

function prepareAgentStatements(conn: Connection) {
  const { db } = conn
  const p = (name: string) => sql.placeholder(name)
  const s = (name: string) => sql`${sql.placeholder(name)}`
  return {
    byName: db
      .select()
      .from(agents)
      .where(eq(agents.name, p('name')))
      .prepare(),
    all: db.select().from(agents).orderBy(agents.name).prepare(),
    credentialId: db
      .select({ id: credentials.id })
      .from(credentials)
      .where(eq(credentials.name, p('name')))
      .prepare(),
    grantNamesOf: db
      .select({
        agentId: grants.agentId,
        credentialId: grants.credentialId,
        seal: grants.seal,
        name: credentials.name,
      })
      .from(grants)
      .innerJoin(credentials, eq(credentials.id, grants.credentialId))
      .where(eq(grants.agentId, p('agentId')))
      .orderBy(credentials.name)
      .prepare(),
    allGrantNames: db
      .select({
        agentId: grants.agentId,
        credentialId: grants.credentialId,
        seal: grants.seal,
        name: credentials.name,
      })
      .from(grants)
      .innerJoin(credentials, eq(credentials.id, grants.credentialId))
      .orderBy(credentials.name)
      .prepare(),
    allGrantIds: db
      .select({ agentId: grants.agentId, credentialId: grants.credentialId, seal: grants.seal })
      .from(grants)
      .orderBy(grants.credentialId)
      .prepare(),
    insert: db
      .insert(agents)
      .values({
        id: p('id'),
        name: p('name'),
        tokenHash: p('tokenHash'),
        prefix: p('prefix'),
        rateLimit: p('rateLimit'),
        maxInFlight: p('maxInFlight'),
        createdAt: p('createdAt'),
        updatedAt: p('updatedAt'),
        tokenRotatedAt: p('tokenRotatedAt'),
        seal: p('seal'),
      })
      .prepare(),
    updateToken: db
      .update(agents)
      .set({
        tokenHash: s('tokenHash'),
        prefix: s('prefix'),
        tokenRotatedAt: s('now'),
        updatedAt: s('now'),
        seal: s('seal'),
      })
      .where(eq(agents.id, p('id')))
      .prepare(),
    updateLimits: db
      .update(agents)
      .set({
        rateLimit: s('rateLimit'),
        maxInFlight: s('maxInFlight'),
        updatedAt: s('updatedAt'),
        seal: s('seal'),
      })
      .where(eq(agents.id, p('id')))
      .prepare(),
    remove: db
      .delete(agents)
      .where(eq(agents.id, p('id')))
      .prepare(),
    grantOf: db
      .select({ agentId: grants.agentId, credentialId: grants.credentialId, seal: grants.seal })
      .from(grants)
      .where(and(eq(grants.agentId, p('agentId')), eq(grants.credentialId, p('credentialId'))))
      .prepare(),
    // A row there already fails its seal (`grant` checked): the operator's grant replaces it.
    grant: db
      .insert(grants)
      .values({
        agentId: p('agentId'),
        credentialId: p('credentialId'),
        createdAt: p('createdAt'),
        seal: p('seal'),
      })
      .onConflictDoUpdate({
        target: [grants.agentId, grants.credentialId],
        set: { createdAt: s('createdAt'), seal: s('seal') },
      })
      .prepare(),
    revoke: db
      .delete(grants)
      .where(and(eq(grants.agentId, p('agentId')), eq(grants.credentialId, p('credentialId'))))
      .prepare(),
  }
}

type AgentStatements = ReturnType<typeof prepareAgentStatements>

/**
 * Agent and grant rows of one vault database. Methods do no transaction handling of their own:
 * `Vault` runs each write inside `BEGIN IMMEDIATE` and maps errors. Rows are built and read by
 * `agent-rows.ts`, shared with the PostgreSQL engine.
 */
export class AgentStore {
  readonly #stmts: AgentStatements
  readonly #cipher: VaultCipher

  constructor(conn: Connection, cipher: VaultCipher) {
    this.#stmts = prepareAgentStatements(conn)
    this.#cipher = cipher
  }

  add(input: NewAgent): AgentWithToken {
    const { row, token } = newAgentRow(this.#cipher, input, new Date())
    if (this.#stmts.byName.get({ name: row.name })) throw duplicateAgent(row.name)
    this.#stmts.insert.run(row)
    return { agent: toAgentInfo(this.#cipher, row, []), token }
  }

  get(name: string): AgentInfo | undefined {
    const row = this.#stmts.byName.get({ name: validateAgentName(name) })
    return row === undefined ? undefined : this.#info(row)
  }

  list(): AgentInfo[] {
    const byAgent = groupPairs(
      this.#stmts.allGrantNames.all(),
      (g) => g.agentId,
      (g) => g,
    )
    return this.#stmts.all
      .all()
      .map((row) =>
        toAgentInfo(this.#cipher, row, grantedNames(this.#cipher, row, byAgent.get(row.id) ?? [])),
      )
  }

  remove(name: string): void {
    this.#stmts.remove.run({ id: this.#require(name).id })
  }

  regenerate(name: string): AgentWithToken {
    const { row, token } = regeneratedAgentRow(this.#cipher, this.#require(name), new Date())
    this.#stmts.updateToken.run({
      id: row.id,
      tokenHash: row.tokenHash,
      prefix: row.prefix,
      now: row.updatedAt,
      seal: row.seal,
    })
    return { agent: this.#info(row), token }
  }

  setLimits(name: string, patch: AgentLimits): AgentInfo {
    const next = limitedAgentRow(this.#cipher, this.#require(name), patch, new Date())
    this.#stmts.updateLimits.run(next)
    return this.#info(next)
  }

  /**
   * True when the grant is new, false when the agent already had it. A stored grant of that pair
   * that fails its seal (added outside Aegis) is not one: it is replaced by this sealed grant.
   */
  grant(agentName: string, credentialName: string): boolean {
    const pair = this.#pair(agentName, credentialName)
    const held = this.#stmts.grantOf.get(pair)
    if (held !== undefined && this.#cipher.grantMatchesSeal(held, held.seal)) return false
    const seal = this.#cipher.sealGrant(pair)
    this.#stmts.grant.run({ ...pair, createdAt: new Date().toISOString(), seal })
    return true
  }

  /** True when a grant was removed, false when the agent did not have it. */
  revoke(agentName: string, credentialName: string): boolean {
    return this.#stmts.revoke.run(this.#pair(agentName, credentialName)).changes > 0
  }

  /** Every agent for the gate's snapshot (see `toAgentRecord` for damaged rows). */
  loadAll(): AgentRecord[] {
    const byAgent = groupPairs(
      this.#stmts.allGrantIds.all(),
      (g) => g.agentId,
      (g) => g,
    )
    return this.#stmts.all.all().map((row) => toAgentRecord(this.#cipher, row, byAgent.get(row.id) ?? []))
  }

  #pair(agentName: string, credentialName: string): { agentId: string; credentialId: string } {
    const agent = this.#require(agentName)
    const credential = this.#stmts.credentialId.get({ name: validateCredentialName(credentialName) })
    if (credential === undefined) throw noGrantableCredential(credentialName)
    return { agentId: agent.id, credentialId: credential.id }
  }

  #require(name: string): AgentRow {
    const row = this.#stmts.byName.get({ name: validateAgentName(name) })
    if (row === undefined) throw noAgent(name)
    return row
  }

  #info(row: AgentRow): AgentInfo {
    return toAgentInfo(
      this.#cipher,
      row,
      grantedNames(this.#cipher, row, this.#stmts.grantNamesOf.all({ agentId: row.id })),
    )
  }
}
