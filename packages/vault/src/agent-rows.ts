import { randomUUID } from 'node:crypto'
import { parseRate } from '@aegis/guard'
import { agentTokenPrefix, generateAgentToken, hashAgentToken } from './agent-token.js'
import { quoteName, validateAgentLimits, validateNewAgent } from './agent-validate.js'
import type { VaultCipher } from './cipher.js'
import { VaultError } from './errors.js'
import type { AgentRow } from './schema.js'
import { AGENT_SEAL_MISMATCH, GRANT_SEAL_MISMATCH } from './settings-seal.js'
import type { AgentInfo, AgentLimits, AgentRecord, NewAgent } from './types.js'

// Row <-> domain mapping of agents and grants, shared by the SQLite and the PostgreSQL engine.

/** A validated new agent: its row and the token (shown once; only its hash is stored). */
export function newAgentRow(
  cipher: VaultCipher,
  input: NewAgent,
  now: Date,
): { row: AgentRow; token: string } {
  const fields = validateNewAgent(input)
  const token = generateAgentToken()
  const stamp = now.toISOString()
  const row = {
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
  return { row: { ...row, seal: cipher.sealAgent(row) }, token }
}

/**
 * The row with a fresh token (the old hash is gone), sealed again, and that token. Throws `corrupt`
 * for a row that fails its seal: its limits and name would otherwise be sealed as they were edited.
 */
export function regeneratedAgentRow(
  cipher: VaultCipher,
  row: AgentRow,
  now: Date,
): { row: AgentRow; token: string } {
  requireAgentSeal(cipher, row)
  const token = generateAgentToken()
  const stamp = now.toISOString()
  const next = {
    ...row,
    tokenHash: hashAgentToken(token),
    prefix: agentTokenPrefix(token),
    tokenRotatedAt: stamp,
    updatedAt: stamp,
  }
  return { row: { ...next, seal: cipher.sealAgent(next) }, token }
}

/** The row after `setAgentLimits(patch)`, sealed again; throws `invalid_input`, or `corrupt` (see above). */
export function limitedAgentRow(cipher: VaultCipher, row: AgentRow, patch: AgentLimits, now: Date): AgentRow {
  requireAgentSeal(cipher, row)
  const next = { ...row, ...validateAgentLimits(row, patch), updatedAt: now.toISOString() }
  return { ...next, seal: cipher.sealAgent(next) }
}

/** A row with the seal it has now (upgrading a vault whose agents have none). */
export function sealedAgentRow(cipher: VaultCipher, row: AgentRow): AgentRow {
  return { ...row, seal: cipher.sealAgent(row) }
}

/** A grant row as stored: its pair and its seal. */
export interface StoredGrant {
  agentId: string
  credentialId: string
  seal: unknown
}

/** A grant as `list`/`get` read it: the stored row plus the credential's name. */
export type NamedGrant = StoredGrant & { name: string }

/** The credential names an agent is granted; throws `corrupt` naming a grant that fails its seal. */
export function grantedNames(cipher: VaultCipher, agent: AgentRow, grants: readonly NamedGrant[]): string[] {
  for (const g of grants) {
    if (!cipher.grantMatchesSeal(g, g.seal)) {
      throw new VaultError(
        'corrupt',
        `The grant of credential ${quoteName(g.name)} to agent ${quoteName(agent.name)} ${GRANT_SEAL_MISMATCH}; remove it: aegis agent revoke --agent ${agent.name} --credential ${g.name}`,
      )
    }
  }
  return grants.map((g) => g.name)
}

function requireAgentSeal(cipher: VaultCipher, row: AgentRow): void {
  if (!agentSealHolds(cipher, row)) throw tamperedAgent(row)
}

function agentSealHolds(cipher: VaultCipher, row: AgentRow): boolean {
  return cipher.agentMatchesSeal(row, row.seal)
}

function tamperedAgent(row: AgentRow): VaultError {
  return new VaultError(
    'corrupt',
    `Agent ${quoteName(row.name)} ${AGENT_SEAL_MISMATCH}; remove it (aegis agent remove --name ${row.name}) and add it again`,
  )
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
export function groupPairs<T, V>(pairs: readonly T[], key: (p: T) => string, value: (p: T) => V) {
  const map = new Map<string, V[]>()
  for (const p of pairs) {
    const list = map.get(key(p))
    if (list === undefined) map.set(key(p), [value(p)])
    else list.push(value(p))
  }
  return map
}

/**
 * An agent for the gate's snapshot. A row whose stored settings are damaged, or that fails its
 * seal, comes back with `damaged` set and no usable limits or grants, rather than throwing: one bad
 * row must not stop a gate from starting (the others are served; that agent's token is refused).
 * The stored hash of a row that fails its seal is kept, only so that the gate can tell a request
 * with that token why it is refused. A grant that fails its seal grants nothing: it is left out of
 * `grants` and listed in `refusedGrants`.
 */
export function toAgentRecord(
  cipher: VaultCipher,
  row: AgentRow,
  grants: readonly StoredGrant[],
): AgentRecord {
  const valid = grants.filter((g) => cipher.grantMatchesSeal(g, g.seal)).map((g) => g.credentialId)
  const forged = grants.filter((g) => !cipher.grantMatchesSeal(g, g.seal)).map((g) => g.credentialId)
  const refused = forged.length > 0 ? { refusedGrants: forged } : {}
  const damaged = agentSealHolds(cipher, row) ? storedAgentProblem(row) : AGENT_SEAL_MISMATCH
  if (damaged !== undefined) return { ...refusedAgentRecord(row, damaged), ...refused }
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    tokenHash: Buffer.from(row.tokenHash),
    rateLimit: row.rateLimit,
    maxInFlight: row.maxInFlight,
    grants: valid,
    ...refused,
  }
}

/**
 * An agent refused — its row fails its own seal or is unreadable, or its vault's set of rows no
 * longer matches the sealed state: its hash kept only so the gate can say why, no limits or grants.
 */
export function refusedAgentRecord(row: AgentRow, reason: string): AgentRecord {
  const hashed = Buffer.isBuffer(row.tokenHash) && row.tokenHash.length === 32
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    tokenHash: hashed ? Buffer.from(row.tokenHash) : Buffer.alloc(0),
    rateLimit: null,
    maxInFlight: null,
    grants: [],
    damaged: reason,
  }
}

/** Agent metadata (never the hash); throws `corrupt` for a damaged row or one that fails its seal. */
export function toAgentInfo(cipher: VaultCipher, row: AgentRow, grantNames: string[]): AgentInfo {
  requireAgentSeal(cipher, row)
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
