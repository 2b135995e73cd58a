import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * The columns of a credential row that decide where and how its secret is sent: every one is
 * covered by the row's seal. The secret has its own binding (its AEAD context names vault and row);
 * the timestamps other than `expiresAt` are informational and stay unsealed.
 */
export interface SealedSettings {
  id: string
  name: string
  service: string
  domains: string
  authType: string
  headerName: string | null
  queryParam: string | null
  scopes: string
  expiresAt: string | null
  rateLimit: string | null
  bodyInspection: string
}

/** Label and version of each canonical encoding: a change of either makes every old seal fail. */
const CREDENTIAL_ENCODING = 'aegis-credential-settings-v1'
const AGENT_ENCODING = 'aegis-agent-v1'
const GRANT_ENCODING = 'aegis-grant-v1'

/**
 * The columns of an agent row that decide who it is and what it may do at once: its id and name,
 * the hash of its token (which token is that agent), the display prefix, and its limits. The
 * timestamps are informational and stay unsealed.
 */
export interface SealedAgent {
  id: string
  name: string
  tokenHash: unknown
  prefix: string
  rateLimit: string | null
  maxInFlight: number | null
}

/** A grant is its pair: the seal binds it to both ids, so it cannot be copied to another pair. */
export interface SealedGrant {
  agentId: string
  credentialId: string
}

/**
 * The bytes a seal authenticates: one JSON array of the encoding label, the vault and the values
 * in a fixed order. Values keep their stored types (a number where text belongs encodes
 * differently), so any change to a column — its text, its type, NULL for a value — is a different
 * encoding; the label keeps a row of one kind from passing as another.
 */
function canonical(label: string, vaultName: string, values: readonly unknown[]): Buffer {
  return Buffer.from(JSON.stringify([label, vaultName, ...values]), 'utf8')
}

/** A blob column as JSON: bytes as hex, anything else (text stored in its place) tagged apart. */
function blobValue(value: unknown): unknown {
  return Buffer.isBuffer(value)
    ? ['bytes', value.toString('hex')]
    : ['not-bytes', typeof value, String(value)]
}

function credentialValues(s: SealedSettings): unknown[] {
  return [
    s.id,
    s.name,
    s.service,
    s.domains,
    s.authType,
    s.headerName,
    s.queryParam,
    s.scopes,
    s.expiresAt,
    s.rateLimit,
    s.bodyInspection,
  ]
}

function agentValues(a: SealedAgent): unknown[] {
  return [a.id, a.name, blobValue(a.tokenHash), a.prefix, a.rateLimit, a.maxInFlight]
}

function grantValues(g: SealedGrant): unknown[] {
  return [g.agentId, g.credentialId]
}

function hmac(sealKey: Buffer, bytes: Buffer): Buffer {
  return createHmac('sha256', sealKey).update(bytes).digest()
}

function matches(expected: Buffer, seal: unknown): boolean {
  return Buffer.isBuffer(seal) && seal.length === expected.length && timingSafeEqual(seal, expected)
}

/** HMAC-SHA-256 of the row's settings, bound to its vault, under the settings subkey. */
export function sealSettings(sealKey: Buffer, vaultName: string, settings: SealedSettings): Buffer {
  return hmac(sealKey, canonical(CREDENTIAL_ENCODING, vaultName, credentialValues(settings)))
}

/** True when `seal` is the one `sealSettings` makes for these settings now (constant time). */
export function settingsMatchSeal(
  sealKey: Buffer,
  vaultName: string,
  settings: SealedSettings,
  seal: unknown,
): boolean {
  return matches(sealSettings(sealKey, vaultName, settings), seal)
}

/** HMAC-SHA-256 of an agent row's identity and limits, bound to its vault. */
export function sealAgent(sealKey: Buffer, vaultName: string, agent: SealedAgent): Buffer {
  return hmac(sealKey, canonical(AGENT_ENCODING, vaultName, agentValues(agent)))
}

/** True when `seal` is the one `sealAgent` makes for this row now (constant time). */
export function agentMatchesSeal(
  sealKey: Buffer,
  vaultName: string,
  agent: SealedAgent,
  seal: unknown,
): boolean {
  return matches(sealAgent(sealKey, vaultName, agent), seal)
}

/** HMAC-SHA-256 of a grant's pair of ids, bound to its vault. */
export function sealGrant(sealKey: Buffer, vaultName: string, grant: SealedGrant): Buffer {
  return hmac(sealKey, canonical(GRANT_ENCODING, vaultName, grantValues(grant)))
}

/** True when `seal` is the one `sealGrant` makes for this pair (constant time). */
export function grantMatchesSeal(
  sealKey: Buffer,
  vaultName: string,
  grant: SealedGrant,
  seal: unknown,
): boolean {
  return matches(sealGrant(sealKey, vaultName, grant), seal)
}

/** Why a row whose settings fail their seal is refused (one line, without the name). */
export const SEAL_MISMATCH =
  'has settings that do not match their seal: they were changed outside Aegis (or the row was copied from another vault)'

/** Why an agent row that fails its seal is refused (one line, without the name; never the hash). */
export const AGENT_SEAL_MISMATCH =
  'has a stored identity or limits that do not match their seal: the row was added or changed outside Aegis (or copied from another vault)'

/** Why a grant that fails its seal grants nothing (one line, without the names). */
export const GRANT_SEAL_MISMATCH =
  'does not match its seal: it was added outside Aegis (or copied from another agent, credential or vault) and grants nothing'
