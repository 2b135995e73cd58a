import { randomUUID } from 'node:crypto'
import { parseStoredSettings } from '@aegis/guard'
import type { VaultCipher } from './cipher.js'
import { VaultError } from './errors.js'
import type { CredentialRow } from './schema.js'
import { SEAL_MISMATCH } from './settings-seal.js'
import type {
  AuthType,
  BodyInspection,
  Credential,
  CredentialInfo,
  CredentialLoad,
  CredentialPatch,
  NewCredential,
  Scope,
} from './types.js'
import { type CredentialFields, validateNewCredential, validatePatch } from './validate.js'

// Row <-> domain mapping of credentials, shared by the SQLite and the PostgreSQL engine (their
// columns hold the same representations: JSON text arrays, ISO 8601 text, the sealed envelope).

/** A validated new credential: its row (secret already sealed) before it is written. */
export function newCredentialRow(cipher: VaultCipher, input: NewCredential, now: Date): CredentialRow {
  const fields = validateNewCredential(input, now)
  const id = randomUUID()
  const stamp = now.toISOString()
  const settings = { ...toColumns(fields), id, name: fields.name, service: fields.service }
  return {
    ...settings,
    secret: cipher.sealCredential(id, fields.secret),
    seal: cipher.sealSettings(settings),
    createdAt: stamp,
    updatedAt: stamp,
    rotatedAt: null,
  }
}

/**
 * The row after `update(patch)`, sealed again; throws `invalid_input`, or `corrupt` for a row that
 * is unreadable or fails its seal: the columns the patch leaves alone would otherwise be sealed
 * as they were edited.
 */
export function patchedCredentialRow(
  cipher: VaultCipher,
  row: CredentialRow,
  patch: CredentialPatch,
  now: Date,
): CredentialRow {
  const fields = validatePatch(storedInfo(cipher, row), patch, now)
  const next = { ...row, ...toColumns(fields), updatedAt: now.toISOString() }
  return { ...next, seal: cipher.sealSettings(next) }
}

/** A row with the seal its settings have now (upgrading a format-1 vault, whose rows have none). */
export function sealedCredentialRow(cipher: VaultCipher, row: CredentialRow): CredentialRow {
  return { ...row, seal: cipher.sealSettings(row) }
}

/** The row after a rotation to `secret` (validated by `validateSecret`): new nonce, same binding. */
export function rotatedCredentialRow(
  cipher: VaultCipher,
  row: CredentialRow,
  secret: string,
  now: Date,
): CredentialRow {
  const stamp = now.toISOString()
  return { ...row, secret: cipher.sealCredential(row.id, secret), rotatedAt: stamp, updatedAt: stamp }
}

export function duplicateName(name: string): VaultError {
  return new VaultError('duplicate', `A credential named "${name}" already exists`)
}

export function duplicateService(service: string, holder: string): VaultError {
  return new VaultError('duplicate', `Service "${service}" is already used by credential "${holder}"`)
}

export function noCredential(name: string): VaultError {
  return new VaultError('not_found', `No credential named "${name}"`)
}

/** A row decrypted; throws `corrupt` naming the row when it cannot be served. */
export function decryptCredential(cipher: VaultCipher, row: CredentialRow): Credential {
  const secret = cipher.openCredential(row)
  if (typeof secret === 'string') throw corruptRow(row, secret)
  const info = storedInfo(cipher, row)
  const problem = servingProblem(info)
  if (problem !== undefined) throw corruptRow(row, problem)
  return { ...info, secret }
}

/**
 * Every row decrypted, for the gate's snapshot: one damaged row (a ciphertext that fails
 * authentication, unreadable settings) is listed in `unavailable` with the reason instead of
 * failing the whole load.
 */
export function loadCredentialRows(cipher: VaultCipher, rows: readonly CredentialRow[]): CredentialLoad {
  const load: CredentialLoad = { credentials: [], unavailable: [] }
  for (const row of rows) {
    const secret = cipher.openCredential(row)
    const info = cipher.settingsMatchSeal(row, row.seal) ? readInfo(row) : SEAL_MISMATCH
    const problem =
      typeof secret === 'string' ? secret : typeof info === 'string' ? info : servingProblem(info)
    if (problem === undefined && typeof secret !== 'string' && typeof info !== 'string') {
      load.credentials.push({ ...info, secret })
      continue
    }
    load.unavailable.push({
      id: row.id,
      name: row.name,
      service: row.service,
      reason: problem ?? 'cannot be read',
      secret: typeof secret === 'string' ? null : secret,
    })
  }
  return load
}

/**
 * The load of a vault this process no longer has the key or the file of (destroyed, re-created or
 * replaced since it was opened): every row is unavailable for that one reason — what is true —
 * rather than blamed on its stored data. Nothing is decrypted.
 */
export function replacedVaultLoad(rows: readonly CredentialRow[], reason: string): CredentialLoad {
  return {
    credentials: [],
    unavailable: rows.map((row) => ({
      id: row.id,
      name: row.name,
      service: row.service,
      reason,
      secret: null,
    })),
  }
}

/** The metadata columns of a row, from validated fields. */
function toColumns(fields: CredentialFields) {
  return {
    domains: JSON.stringify(fields.domains),
    authType: fields.authType,
    headerName: fields.headerName,
    queryParam: fields.queryParam,
    scopes: JSON.stringify(fields.scopes),
    expiresAt: fields.expiresAt,
    rateLimit: fields.rateLimit,
    bodyInspection: fields.bodyInspection,
  }
}

/** `Credential "<name>" <problem>`: the one shape of a damaged-row error. */
function corruptRow(row: CredentialRow, problem: string): VaultError {
  return new VaultError('corrupt', `Credential "${row.name}" ${problem}`)
}

function parseStringArray(text: string): string[] | undefined {
  try {
    const value: unknown = JSON.parse(text)
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value
  } catch {
    // fall through
  }
  return undefined
}

const AUTH_TYPES = new Set<string>(['bearer', 'header', 'basic', 'query'])
const BODY_MODES = new Set<string>(['off', 'warn', 'block'])
const SCOPES = new Set<string>(['read', 'write', '*'])

/**
 * What keeps readable metadata from being served (guard `parseStoredSettings`: domains and a rate
 * that parse). `list` and `update` still work on such a row, so `update` can repair it.
 */
function servingProblem(info: CredentialInfo): string | undefined {
  const settings = parseStoredSettings(info.domains, info.rateLimit)
  return settings.ok ? undefined : settings.problem
}

/**
 * A stored row's metadata; throws `corrupt` when its settings fail their seal (edited outside the
 * vault, or copied from another vault) or cannot be read.
 */
export function storedInfo(cipher: VaultCipher, row: CredentialRow): CredentialInfo {
  if (!cipher.settingsMatchSeal(row, row.seal)) throw corruptRow(row, SEAL_MISMATCH)
  return toInfo(row)
}

/** The metadata of a row this process just built (see `storedInfo` for a row read back). */
export function toInfo(row: CredentialRow): CredentialInfo {
  const info = readInfo(row)
  if (typeof info === 'string') throw corruptRow(row, info)
  return info
}

/**
 * A row's metadata, or what is wrong with it. Fails closed on rows edited behind the vault's back:
 * the gate relies on these enums.
 */
function readInfo(row: CredentialRow): CredentialInfo | string {
  const scopes = parseStringArray(row.scopes)
  if (scopes === undefined) return 'has an unreadable scopes column'
  const domains = parseStringArray(row.domains)
  if (domains === undefined) return 'has an unreadable domains column'
  if (
    !AUTH_TYPES.has(row.authType) ||
    !BODY_MODES.has(row.bodyInspection) ||
    !scopes.every((s) => SCOPES.has(s))
  ) {
    return 'has invalid stored settings'
  }
  return {
    id: row.id,
    name: row.name,
    service: row.service,
    domains,
    authType: row.authType as AuthType,
    headerName: row.headerName,
    queryParam: row.queryParam,
    scopes: scopes as Scope[],
    expiresAt: row.expiresAt,
    rateLimit: row.rateLimit,
    bodyInspection: row.bodyInspection as BodyInspection,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    rotatedAt: row.rotatedAt,
  }
}
