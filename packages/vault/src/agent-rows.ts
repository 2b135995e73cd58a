import { randomUUID } from 'node:crypto'
import { parseRate } from '@aegis/guard'
import { agentTokenPrefix, generateAgentToken, hashAgentToken } from './agent-token.js'
import { quoteName, validateAgentLimits, validateNewAgent } from './agent-validate.js'
import { VaultError } from './errors.js'
import type { AgentRow } from './schema.js'
import type { AgentInfo, AgentLimits, AgentRecord, NewAgent } from './types.js'

// Row <-> domain mapping of agents and grants, shared by the SQLite and the PostgreSQL engine.

/** A validated new agent: its row and the token (shown once; only its hash is stored). */
export function newAgentRow(input: NewAgent, now: Date): { row: AgentRow; token: string } {
  const fields = validateNewAgent(input)
  const token = generateAgentToken()
  const stamp = now.toISOString()
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
  return { row, token }
}

/** The row with a fresh token (the old hash is gone), and that token. */
export function regeneratedAgentRow(row: AgentRow, now: Date): { row: AgentRow; token: string } {
  const token = generateAgentToken()
  const stamp = now.toISOString()
  return {
    row: {
      ...row,
      tokenHash: hashAgentToken(token),
      prefix: agentTokenPrefix(token),
      tokenRotatedAt: stamp,
      updatedAt: stamp,
    },
    token,
  }
}

/** The row after `setAgentLimits(patch)`; throws `invalid_input`. */
export function limitedAgentRow(row: AgentRow, patch: AgentLimits, now: Date): AgentRow {
  return { ...row, ...validateAgentLimits(row, patch), updatedAt: now.toISOString() }
}

export function duplicateAgent(name: string): VaultError {
  return new VaultError('duplicate', `An agent named "${name}" already exists`)
}

export function noAgent(name: string): VaultError {
  return new VaultError('not_found', `No agent named ${quoteName(name)}`)
}

/** For grant/revoke, whose credential name may be anything the caller typed. */
export function noGrantableCredential(name: string): VaultError {
  return new VaultError('not_found', `No credential named ${quoteName(name)}`)
}

/** `key -> values` from pairs, keeping their order. */
export function groupPairs<T>(pairs: readonly T[], key: (p: T) => string, value: (p: T) => string) {
  const map = new Map<string, string[]>()
  for (const p of pairs) {
    const list = map.get(key(p))
    if (list === undefined) map.set(key(p), [value(p)])
    else list.push(value(p))
  }
  return map
}

/**
 * An agent for the gate's snapshot. A row whose stored settings are damaged comes back with
 * `damaged` set and nothing usable, rather than throwing: one bad row must not stop a gate from
 * starting (the others are served; that agent's token is not recognised).
 */
export function toAgentRecord(row: AgentRow, grants: string[]): AgentRecord {
  const damaged = storedAgentProblem(row)
  if (damaged !== undefined) {
    return {
      id: row.id,
      name: row.name,
      prefix: row.prefix,
      tokenHash: Buffer.alloc(0),
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
}

/** Agent metadata (never the hash); throws `corrupt` for a damaged row. */
export function toAgentInfo(row: AgentRow, grantNames: string[]): AgentInfo {
  if (storedAgentProblem(row) !== undefined) {
    throw new VaultError('corrupt', `Agent ${quoteName(row.name)} has invalid stored settings`)
  }
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

/**
 * Why a stored agent row cannot be used (its token hash, in-flight cap or rate), or undefined.
 * Fails closed on rows edited behind the vault's back: the gate relies on these values.
 */
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
