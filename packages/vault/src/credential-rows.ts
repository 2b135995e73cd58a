import { randomUUID } from 'node:crypto'
import { parseStoredSettings } from '@aegis/guard'
import type { VaultCipher } from './cipher.js'
import { VaultError } from './errors.js'
import type { CredentialRow } from './schema.js'
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
  return {
    ...toColumns(fields),
    id,
    name: fields.name,
    service: fields.service,
    secret: cipher.sealCredential(id, fields.secret),
    createdAt: stamp,
    updatedAt: stamp,
    rotatedAt: null,
  }
}

/** The row after `update(patch)`; throws `invalid_input` (or `corrupt` for an unreadable row). */
export function patchedCredentialRow(row: CredentialRow, patch: CredentialPatch, now: Date): CredentialRow {
  const fields = validatePatch(toInfo(row), patch, now)
  return { ...row, ...toColumns(fields), updatedAt: now.toISOString() }
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
  const info = toInfo(row)
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
    const info = readInfo(row)
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

/** A row's metadata; throws `corrupt` when it cannot be read (see `readInfo`). */
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
