import { headerCanCarry, parseDomainPattern, parseRate, secretProblems } from '@aegis/guard'
import { VaultError } from './errors.js'
import { Secret } from './secret.js'
import type {
  AuthType,
  BodyInspection,
  CredentialInfo,
  CredentialPatch,
  NewCredential,
  Scope,
} from './types.js'

/** The validated, normalized fields of a credential (everything but id and timestamps). */
export type CredentialFields = Omit<CredentialInfo, 'id' | 'createdAt' | 'updatedAt' | 'rotatedAt'>

const VAULT_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/
const CREDENTIAL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/
const SERVICE = /^[a-z0-9][a-z0-9_-]{0,127}$/
const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/
const QUERY_PARAM = /^[A-Za-z0-9._~-]{1,128}$/
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/
const MAX_SECRET_BYTES = 16 * 1024
const MAX_TTL_DAYS = 36_500
const DAY_MS = 86_400_000

const AUTH_TYPES: readonly AuthType[] = ['bearer', 'header', 'basic', 'query']
const BODY_INSPECTION: readonly BodyInspection[] = ['off', 'warn', 'block']
const SCOPES: readonly Scope[] = ['read', 'write', '*']

/** Header names the gate owns or that change message framing; never usable for injection. */
const RESERVED_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'content-encoding',
  'expect',
  'forwarded',
  'x-target-host',
])
const RESERVED_HEADER_PREFIXES = ['x-aegis-', 'x-forwarded-', ':']

const NEW_KEYS = new Set([
  'name',
  'service',
  'secret',
  'domains',
  'authType',
  'headerName',
  'queryParam',
  'scopes',
  'ttlDays',
  'expiresAt',
  'rateLimit',
  'bodyInspection',
])
const PATCH_KEYS = new Set([
  'domains',
  'authType',
  'headerName',
  'queryParam',
  'scopes',
  'rateLimit',
  'bodyInspection',
  'ttlDays',
  'expiresAt',
])

function invalid(message: string): VaultError {
  return new VaultError('invalid_input', message)
}

/** Throws unless the master key is a non-empty string (its strength is the caller's choice). */
export function validateMasterKey(masterKey: unknown): string {
  if (typeof masterKey !== 'string' || masterKey.length === 0) {
    throw new VaultError('invalid_input', 'master key must be a non-empty string')
  }
  return masterKey
}

/** Throws unless `name` is a valid vault name (`[a-z0-9][a-z0-9_-]{0,62}`). */
export function validateVaultName(name: unknown): string {
  if (typeof name !== 'string' || !VAULT_NAME.test(name)) {
    // Opens with the field, as every other field's message does: the CLI shows it as `--name`.
    throw invalid(
      'name must be a vault name: lower-case letters, digits, "-" or "_", at most 63, starting with a letter or digit',
    )
  }
  return name
}

/** Throws unless `name` is a valid credential name. */
export function validateCredentialName(name: unknown): string {
  if (typeof name !== 'string' || !CREDENTIAL_NAME.test(name)) {
    throw invalid('name must be 1-128 characters of [A-Za-z0-9._-], starting with a letter or digit')
  }
  return name
}

function validateService(service: unknown): string {
  if (typeof service !== 'string' || !SERVICE.test(service)) {
    throw invalid('service must be 1-128 characters of [a-z0-9_-], starting with a letter or digit')
  }
  if (service === '_aegis') throw invalid('service "_aegis" is reserved')
  return service
}

/**
 * Checks a secret value (every write path: `add`, `rotate`); the error never echoes the value.
 * Refuses what the gate could not recognise in traffic (guard `secretProblems`): surrounding
 * whitespace (an upstream trims it, so the value it echoes is not the stored one), control
 * characters, and secrets under `MIN_SECRET_BYTES`.
 */
export function validateSecret(secret: unknown): string {
  const value = secret instanceof Secret ? secret.reveal() : secret
  if (typeof value !== 'string') throw invalid('secret must be a string')
  if (value.length === 0) throw invalid('secret must not be empty')
  if (Buffer.byteLength(value, 'utf8') > MAX_SECRET_BYTES) throw invalid('secret must be at most 16 KiB')
  const problem = secretProblems(value)[0]
  if (problem !== undefined) throw invalid(problem.message)
  return value
}

function validateDomains(domains: unknown): string[] {
  if (!Array.isArray(domains) || domains.length === 0) {
    throw invalid('domains must list at least one domain')
  }
  const out: string[] = []
  for (const domain of domains) {
    if (typeof domain !== 'string') throw invalid('domains must be strings')
    const parsed = parseDomainPattern(domain)
    if (!parsed.ok) throw invalid(`domains: ${parsed.reason}`)
    if (!out.includes(parsed.pattern.text)) out.push(parsed.pattern.text)
  }
  return out
}

function validateAuthType(authType: unknown): AuthType {
  if (!AUTH_TYPES.includes(authType as AuthType)) {
    throw invalid(`authType must be one of ${AUTH_TYPES.join(', ')}`)
  }
  return authType as AuthType
}

function validateHeaderName(headerName: unknown): string {
  if (typeof headerName !== 'string' || !HTTP_TOKEN.test(headerName)) {
    throw invalid('headerName must be a valid HTTP header name')
  }
  const lower = headerName.toLowerCase()
  if (RESERVED_HEADERS.has(lower) || RESERVED_HEADER_PREFIXES.some((p) => lower.startsWith(p))) {
    throw invalid(`headerName "${headerName}" is reserved and cannot carry a credential`)
  }
  return headerName
}

function validateQueryParam(queryParam: unknown): string {
  if (typeof queryParam !== 'string' || !QUERY_PARAM.test(queryParam)) {
    throw invalid('queryParam must be 1-128 characters of [A-Za-z0-9._~-]')
  }
  return queryParam
}

/** Resolves headerName/queryParam for an auth type; `undefined`/`null` inputs mean "not given". */
function resolveAuthParams(
  authType: AuthType,
  headerName: unknown,
  queryParam: unknown,
): { headerName: string | null; queryParam: string | null } {
  const hasHeader = headerName !== undefined && headerName !== null
  const hasQuery = queryParam !== undefined && queryParam !== null
  if (hasHeader && authType !== 'header') throw invalid('headerName is only allowed with authType "header"')
  if (hasQuery && authType !== 'query') throw invalid('queryParam is only allowed with authType "query"')
  if (authType === 'header') {
    if (!hasHeader) throw invalid('headerName is required with authType "header"')
    return { headerName: validateHeaderName(headerName), queryParam: null }
  }
  if (authType === 'query') {
    return { headerName: null, queryParam: hasQuery ? validateQueryParam(queryParam) : 'key' }
  }
  return { headerName: null, queryParam: null }
}

function validateScopes(scopes: unknown): Scope[] {
  if (!Array.isArray(scopes) || scopes.length === 0) {
    throw invalid('scopes must list at least one of read, write, *')
  }
  const out: Scope[] = []
  for (const scope of scopes) {
    if (!SCOPES.includes(scope as Scope))
      throw invalid(`scopes: ${JSON.stringify(scope)} is not one of read, write, *`)
    if (!out.includes(scope as Scope)) out.push(scope as Scope)
  }
  return out
}

/** A rate string → its canonical text (`parseRate`), or null for none. Throws `invalid_input`. */
export function validateRate(rateLimit: unknown): string | null {
  if (rateLimit === undefined || rateLimit === null) return null
  if (typeof rateLimit !== 'string') throw invalid('rateLimit must be a string such as 100/min')
  try {
    return parseRate(rateLimit).text
  } catch (err) {
    const reason = err instanceof Error ? err.message : 'invalid rate'
    throw invalid(`rateLimit: ${reason}`)
  }
}

function validateBodyInspection(mode: unknown): BodyInspection {
  if (!BODY_INSPECTION.includes(mode as BodyInspection)) {
    throw invalid(`bodyInspection must be one of ${BODY_INSPECTION.join(', ')}`)
  }
  return mode as BodyInspection
}

/** `ttlDays` or `expiresAt` (never both) → ISO expiry, or null when neither is given. */
function validateExpiry(ttlDays: unknown, expiresAt: unknown, now: Date): string | null {
  const hasTtl = ttlDays !== undefined && ttlDays !== null
  const hasAt = expiresAt !== undefined && expiresAt !== null
  if (hasTtl && hasAt) throw invalid('give either ttlDays or expiresAt, not both')
  if (hasTtl) {
    if (typeof ttlDays !== 'number' || !Number.isFinite(ttlDays) || ttlDays <= 0 || ttlDays > MAX_TTL_DAYS) {
      throw invalid(`ttlDays must be a positive number of days (at most ${MAX_TTL_DAYS})`)
    }
    return new Date(now.getTime() + Math.round(ttlDays * DAY_MS)).toISOString()
  }
  if (hasAt) {
    const date =
      expiresAt instanceof Date
        ? expiresAt
        : typeof expiresAt === 'string' && ISO_DATE.test(expiresAt)
          ? new Date(expiresAt)
          : undefined
    if (date === undefined || Number.isNaN(date.getTime())) {
      throw invalid('expiresAt must be an ISO 8601 date or time')
    }
    return date.toISOString()
  }
  return null
}

/** Throws unless `input` is a plain object whose keys are all in `allowed`. */
export function checkObject(
  input: unknown,
  allowed: Set<string>,
  what: string,
): asserts input is Record<string, unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw invalid(`${what} must be an object`)
  for (const key of Object.keys(input)) {
    if (!allowed.has(key)) throw invalid(`${what}: unknown field "${key}"`)
  }
}

/** Validates and normalizes the input of `Vault.add`. */
export function validateNewCredential(
  input: NewCredential,
  now: Date,
): CredentialFields & { secret: string } {
  checkObject(input, NEW_KEYS, 'credential')
  const authType = input.authType === undefined ? 'bearer' : validateAuthType(input.authType)
  const name = validateCredentialName(input.name)
  const service = validateService(input.service)
  const secret = validateSecret(input.secret)
  if ((authType === 'bearer' || authType === 'header') && !headerCanCarry(secret)) {
    throw invalid(
      `secret has a character beyond U+00FF, which an HTTP header cannot carry: authType "${authType}" sends it in a header (use authType basic or query)`,
    )
  }
  return {
    name,
    service,
    secret,
    domains: validateDomains(input.domains),
    authType,
    ...resolveAuthParams(authType, input.headerName, input.queryParam),
    scopes: input.scopes === undefined ? ['*'] : validateScopes(input.scopes),
    expiresAt: validateExpiry(input.ttlDays, input.expiresAt, now),
    rateLimit: validateRate(input.rateLimit),
    bodyInspection:
      input.bodyInspection === undefined ? 'block' : validateBodyInspection(input.bodyInspection),
  }
}

/** Applies a `Vault.update` patch to the current fields, validating the result. */
export function validatePatch(
  current: CredentialFields,
  patch: CredentialPatch,
  now: Date,
): CredentialFields {
  checkObject(patch, PATCH_KEYS, 'update')
  const authType = patch.authType === undefined ? current.authType : validateAuthType(patch.authType)
  // Keep the current header/param only while the auth type still uses it.
  const headerName =
    patch.headerName !== undefined ? patch.headerName : authType === 'header' ? current.headerName : undefined
  const queryParam =
    patch.queryParam !== undefined ? patch.queryParam : authType === 'query' ? current.queryParam : undefined
  const expiryGiven = patch.ttlDays !== undefined || patch.expiresAt !== undefined
  return {
    name: current.name,
    service: current.service,
    domains: patch.domains === undefined ? current.domains : validateDomains(patch.domains),
    authType,
    ...resolveAuthParams(authType, headerName, queryParam),
    scopes: patch.scopes === undefined ? current.scopes : validateScopes(patch.scopes),
    expiresAt: expiryGiven ? validateExpiry(patch.ttlDays, patch.expiresAt, now) : current.expiresAt,
    rateLimit: patch.rateLimit === undefined ? current.rateLimit : validateRate(patch.rateLimit),
    bodyInspection:
      patch.bodyInspection === undefined
        ? current.bodyInspection
        : validateBodyInspection(patch.bodyInspection),
  }
}
