import { randomUUID } from 'node:crypto'
import { parseRate } from '@aegis/guard'
import { and, eq, sql } from 'drizzle-orm'
import { agentTokenPrefix, generateAgentToken, hashAgentToken } from './agent-token.js'
import { quoteName, validateAgentLimits, validateAgentName, validateNewAgent } from './agent-validate.js'
import type { Connection } from './db.js'
import { VaultError } from './errors.js'
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
      .select({ name: credentials.name })
      .from(grants)
      .innerJoin(credentials, eq(credentials.id, grants.credentialId))
      .where(eq(grants.agentId, p('agentId')))
      .orderBy(credentials.name)
      .prepare(),
    allGrantNames: db
      .select({ agentId: grants.agentId, name: credentials.name })
      .from(grants)
      .innerJoin(credentials, eq(credentials.id, grants.credentialId))
      .orderBy(credentials.name)
      .prepare(),
    allGrantIds: db
      .select({ agentId: grants.agentId, credentialId: grants.credentialId })
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
      })
      .prepare(),
    updateToken: db
      .update(agents)
      .set({ tokenHash: s('tokenHash'), prefix: s('prefix'), tokenRotatedAt: s('now'), updatedAt: s('now') })
      .where(eq(agents.id, p('id')))
      .prepare(),
    updateLimits: db
      .update(agents)
      .set({ rateLimit: s('rateLimit'), maxInFlight: s('maxInFlight'), updatedAt: s('updatedAt') })
      .where(eq(agents.id, p('id')))
      .prepare(),
    remove: db
      .delete(agents)
      .where(eq(agents.id, p('id')))
      .prepare(),
    grant: db
      .insert(grants)
      .values({ agentId: p('agentId'), credentialId: p('credentialId'), createdAt: p('createdAt') })
      .onConflictDoNothing()
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
 * `Vault` runs each write inside `BEGIN IMMEDIATE` and maps errors.
 */
export class AgentStore {
  readonly #stmts: AgentStatements

  constructor(conn: Connection) {
    this.#stmts = prepareAgentStatements(conn)
  }

  add(input: NewAgent): AgentWithToken {
    const fields = validateNewAgent(input)
    if (this.#stmts.byName.get({ name: fields.name })) {
      throw new VaultError('duplicate', `An agent named "${fields.name}" already exists`)
    }
    const token = generateAgentToken()
    const stamp = new Date().toISOString()
    const row: AgentRow = {
      id: randomUUID(),
      name: fields.name,
      tokenHash: hashAgentToken(token),
      prefix: agentTokenPrefix(token),
      rateLimit: fields.rateLimit,
      maxInFlight: fields.maxInFlight,
      createdAt: stamp,
      updatedAt: stamp,
      tokenRotatedAt: null,
    }
    this.#stmts.insert.run(row)
    return { agent: toAgentInfo(row, []), token }
  }

  get(name: string): AgentInfo | undefined {
    const row = this.#stmts.byName.get({ name: validateAgentName(name) })
    return row === undefined ? undefined : this.#info(row)
  }

  list(): AgentInfo[] {
    const names = new Map<string, string[]>()
    for (const g of this.#stmts.allGrantNames.all()) pushTo(names, g.agentId, g.name)
    return this.#stmts.all.all().map((row) => toAgentInfo(row, names.get(row.id) ?? []))
  }

  remove(name: string): void {
    this.#stmts.remove.run({ id: this.#require(name).id })
  }

  regenerate(name: string): AgentWithToken {
    const row = this.#require(name)
    const token = generateAgentToken()
    const stamp = new Date().toISOString()
    const next: AgentRow = {
      ...row,
      tokenHash: hashAgentToken(token),
      prefix: agentTokenPrefix(token),
      tokenRotatedAt: stamp,
      updatedAt: stamp,
    }
    this.#stmts.updateToken.run({ id: row.id, tokenHash: next.tokenHash, prefix: next.prefix, now: stamp })
    return { agent: this.#info(next), token }
  }

  setLimits(name: string, patch: AgentLimits): AgentInfo {
    const row = this.#require(name)
    const limits = validateAgentLimits(row, patch)
    const next: AgentRow = { ...row, ...limits, updatedAt: new Date().toISOString() }
    this.#stmts.updateLimits.run(next)
    return this.#info(next)
  }

  /** True when the grant is new, false when the agent already had it. */
  grant(agentName: string, credentialName: string): boolean {
    const { agentId, credentialId } = this.#pair(agentName, credentialName)
    const result = this.#stmts.grant.run({ agentId, credentialId, createdAt: new Date().toISOString() })
    return result.changes > 0
  }

  /** True when a grant was removed, false when the agent did not have it. */
  revoke(agentName: string, credentialName: string): boolean {
    return this.#stmts.revoke.run(this.#pair(agentName, credentialName)).changes > 0
  }

  /**
   * Every agent, for the gate's snapshot. A row whose stored settings are damaged comes back with
   * `damaged` set and nothing usable, rather than throwing: one bad row must not stop a gate from
   * starting (the others are served; that agent's token is not recognised).
   */
  loadAll(): AgentRecord[] {
    const ids = new Map<string, string[]>()
    for (const g of this.#stmts.allGrantIds.all()) pushTo(ids, g.agentId, g.credentialId)
    return this.#stmts.all.all().map((row) => {
      const grants = ids.get(row.id) ?? []
      const damaged = storedAgentProblem(row)
      if (damaged !== undefined) {
        const empty = Buffer.alloc(0)
        return {
          id: row.id,
          name: row.name,
          prefix: row.prefix,
          tokenHash: empty,
          rateLimit: null,
          maxInFlight: null,
          grants,
          damaged,
        }
      }
      return {
        id: row.id,
        name: row.name,
        prefix: row.prefix,
        tokenHash: Buffer.from(row.tokenHash),
        rateLimit: row.rateLimit,
        maxInFlight: row.maxInFlight,
        grants,
      }
    })
  }

  #pair(agentName: string, credentialName: string): { agentId: string; credentialId: string } {
    const agent = this.#require(agentName)
    const credential = this.#stmts.credentialId.get({ name: validateCredentialName(credentialName) })
    if (credential === undefined) {
      throw new VaultError('not_found', `No credential named ${quoteName(credentialName)}`)
    }
    return { agentId: agent.id, credentialId: credential.id }
  }

  #require(name: string): AgentRow {
    const row = this.#stmts.byName.get({ name: validateAgentName(name) })
    if (row === undefined) throw new VaultError('not_found', `No agent named ${quoteName(name)}`)
    return row
  }

  #info(row: AgentRow): AgentInfo {
    return toAgentInfo(
      row,
      this.#stmts.grantNamesOf.all({ agentId: row.id }).map((g) => g.name),
    )
  }
}

function pushTo(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key)
  if (list === undefined) map.set(key, [value])
  else list.push(value)
}

/** Fails closed on rows edited behind the vault's back: the gate relies on these values. */
/** Why a stored agent row cannot be used (its token hash, in-flight cap or rate), or undefined. */
function storedAgentProblem(row: AgentRow): string | undefined {
  if (!Buffer.isBuffer(row.tokenHash) || row.tokenHash.length !== 32) return 'has a damaged stored token hash'
  if (row.maxInFlight !== null && !(Number.isSafeInteger(row.maxInFlight) && row.maxInFlight > 0)) {
    return 'has an invalid stored in-flight cap'
  }
  if (row.rateLimit !== null) {
    try {
      parseRate(row.rateLimit)
    } catch {
      return 'has an invalid stored rate limit'
    }
  }
  return undefined
}

function checkStoredAgent(row: AgentRow): void {
  if (storedAgentProblem(row) !== undefined) {
    throw new VaultError('corrupt', `Agent ${quoteName(row.name)} has invalid stored settings`)
  }
}

function toAgentInfo(row: AgentRow, grantNames: string[]): AgentInfo {
  checkStoredAgent(row)
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    rateLimit: row.rateLimit,
    maxInFlight: row.maxInFlight,
    grants: grantNames,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    tokenRotatedAt: row.tokenRotatedAt,
  }
}
