import {
  type DomainPattern,
  headerCanCarry,
  MIN_SECRET_BYTES,
  parseRate,
  parseStoredSettings,
  type Rate,
  type Scope,
  secretProblems,
} from '@aegis/guard'
import { buildMatcher, type SecretInput, type SecretMatcher } from '@aegis/inspect'
import {
  type AgentRecord,
  type AuthType,
  type BodyInspection,
  type CredentialLoad,
  type CredentialSource,
  revealSecret,
  type SourceCredential,
} from './credentials.js'

export type { AgentRecord, CredentialLoad, CredentialSource }

/** A credential prepared for the hot path: parsed once per snapshot, never per request. */
export interface LiveCredential {
  readonly id: string
  readonly name: string
  readonly service: string
  readonly domains: readonly DomainPattern[]
  readonly scopes: readonly Scope[]
  readonly expiresAt: number | null
  readonly rate: Rate | null
  readonly authType: AuthType
  readonly headerName: string | null
  readonly queryParam: string | null
  readonly bodyInspection: BodyInspection
  /** The secret value. Lives only in this process's memory. */
  readonly secret: string
}

/** A credential the store holds but the gate cannot use: requests for its service are refused. */
export interface UnavailableService {
  readonly id: string
  readonly name: string
  readonly service: string
  /** Why, for the operator's log (never a secret): `cannot be decrypted: …`. */
  readonly reason: string
}

/** A served credential whose secret inspection and redaction cannot fully cover. */
/** An agent whose stored row cannot be used: left out of the snapshot (its token is not recognised). */
export interface UnavailableAgent {
  readonly id: string
  readonly name: string
  /** Why, in words (never a token or hash). */
  readonly reason: string
  /** Ids of the credentials whose stored grant to this agent is refused (it grants nothing). */
  readonly refusedGrants?: readonly string[]
}

export interface SecretWarning {
  readonly name: string
  readonly service: string
  /** One line each (guard `secretProblems`), never the secret. */
  readonly problems: readonly string[]
}

/** An agent prepared for the hot path. */
export interface LiveAgent {
  readonly id: string
  readonly name: string
  readonly prefix: string
  readonly tokenHash: Buffer
  readonly rate: Rate | null
  readonly maxInFlight: number | null
  readonly grants: ReadonlySet<string>
}

/** An immutable view of the store; swapped whole when the store changes. */
export interface Snapshot {
  readonly version: string
  readonly byService: ReadonlyMap<string, LiveCredential>
  /** Agents by the hex SHA-256 of their token. */
  readonly agentsByHash: ReadonlyMap<string, LiveAgent>
  /** Finds every credential secret, in every encoding: outbound inspection and response redaction. */
  readonly matcher: SecretMatcher
  /** Services whose credential row is damaged, by service: refused with `credential_unavailable`. */
  readonly unavailable: ReadonlyMap<string, UnavailableService>
  /** Served credentials stored before the vault refused padded, control-character or short secrets. */
  readonly warnings: readonly SecretWarning[]
  /** Agents whose stored row is damaged: left out, so their tokens are refused. */
  readonly unavailableAgents: readonly UnavailableAgent[]
  /**
   * The refused agents by the hex SHA-256 their stored row holds: only to tell a request with that
   * token why it is refused (and to name the agent in the ledger), never to serve it.
   */
  readonly refusedAgentsByHash: ReadonlyMap<string, UnavailableAgent>
  /** Served agents with a stored grant that is refused (it grants nothing), for the log. */
  readonly refusedGrants: readonly UnavailableAgent[]
}

/** The secrets each matcher was built from, so a snapshot with the same secrets can reuse it. */
const matcherInputs = new WeakMap<SecretMatcher, readonly SecretInput[]>()

/**
 * The secrets (and labels) a snapshot's matcher was built from, to join them with a caller's
 * token (`caller-token.ts`); undefined for a matcher no snapshot built.
 */
export function secretInputsOf(matcher: SecretMatcher): readonly SecretInput[] | undefined {
  return matcherInputs.get(matcher)
}

/**
 * The matcher for `secrets`: `previous`'s when it was built from the same secrets, labels and order
 * (a change to an agent, a grant or a credential's other fields), else a new one. Building takes
 * about 0.1 s per 1,000 secrets, all of it on the event loop.
 */
function matcherFor(secrets: readonly SecretInput[], previous: Snapshot | undefined): SecretMatcher {
  const before = previous && matcherInputs.get(previous.matcher)
  if (
    previous &&
    before &&
    before.length === secrets.length &&
    before.every((input, i) => input.value === secrets[i]?.value && input.kind === secrets[i]?.kind)
  ) {
    return previous.matcher
  }
  const matcher = buildMatcher(secrets)
  matcherInputs.set(matcher, secrets)
  return matcher
}

/**
 * The values the matcher looks for to protect `secret`: the stored value, and without surrounding
 * whitespace when it has some (rows stored before the vault refused padding). An upstream trims the
 * value it receives, so that is the one it echoes.
 */
function secretForms(secret: string, kind: string): SecretInput[] {
  const trimmed = secret.trim()
  return trimmed === secret || trimmed === ''
    ? [{ value: secret, kind }]
    : [
        { value: secret, kind },
        { value: trimmed, kind },
      ]
}

/**
 * What else an upstream may echo of a `basic` credential (`user:password`): the value on the wire
 * (`base64(user:password)`, so its own base64, hex… are found too, as when an upstream echoes the
 * Authorization header encoded) and the password alone (an upstream's "wrong password …"), when
 * it is long enough for the matcher to look for.
 */
function basicForms(secret: string, kind: string): SecretInput[] {
  const forms: SecretInput[] = [{ value: Buffer.from(secret, 'utf8').toString('base64'), kind }]
  const colon = secret.indexOf(':')
  const password = colon === -1 ? '' : secret.slice(colon + 1)
  if (Buffer.byteLength(password, 'utf8') >= MIN_SECRET_BYTES) forms.push({ value: password, kind })
  return forms
}

/** A credential parsed for the hot path, or why its stored settings cannot be used. */
function liveCredential(c: SourceCredential, secret: string): LiveCredential | string {
  const settings = parseStoredSettings(c.domains, c.rateLimit ?? null)
  if (!settings.ok) return settings.problem
  // A source need not be the vault (which validates on write): what the gate cannot read refuses.
  const authType = c.authType ?? 'bearer'
  const bodyInspection = c.bodyInspection ?? 'block'
  const expiresAt = c.expiresAt == null ? null : Date.parse(c.expiresAt)
  if (!AUTH_TYPES.has(authType)) return 'its authType is not bearer, header, basic or query'
  if (authType === 'header' && !c.headerName) return 'its authType is header but it names no headerName'
  if ((authType === 'bearer' || authType === 'header') && !headerCanCarry(secret)) {
    return `its secret has a character beyond U+00FF, which the ${authType} header it is sent in cannot carry`
  }
  if (!BODY_INSPECTION.has(bodyInspection)) return 'its bodyInspection is not off, warn or block'
  if (Number.isNaN(expiresAt)) return 'its expiresAt is not an ISO 8601 date'
  return {
    id: c.id,
    name: c.name,
    service: c.service,
    domains: settings.domains,
    scopes: c.scopes,
    expiresAt,
    rate: settings.rate,
    authType,
    headerName: c.headerName ?? null,
    queryParam: c.queryParam ?? null,
    bodyInspection,
    secret,
  }
}

const AUTH_TYPES: ReadonlySet<string> = new Set<AuthType>(['bearer', 'header', 'basic', 'query'])
const BODY_INSPECTION: ReadonlySet<string> = new Set<BodyInspection>(['off', 'warn', 'block'])

/**
 * Prepares the store's contents for the hot path. A credential the store could not read, or whose
 * domains or rate do not parse, is unavailable: its service is refused while every other one is
 * served. With `previous`, the secret matcher is carried over when the secrets did not change.
 */
export function buildSnapshot(
  version: string,
  credentials: readonly SourceCredential[] | CredentialLoad,
  agents: readonly AgentRecord[] = [],
  previous?: Snapshot,
): Snapshot {
  const load = Array.isArray(credentials)
    ? { credentials: credentials as readonly SourceCredential[], unavailable: [] }
    : (credentials as CredentialLoad)
  const byService = new Map<string, LiveCredential>()
  const unavailable = new Map<string, UnavailableService>()
  const warnings: SecretWarning[] = []
  const secrets: SecretInput[] = []
  for (const c of load.credentials) {
    const secret = revealSecret(c.secret)
    secrets.push(...secretForms(secret, `credential:${c.name}`))
    if (c.authType === 'basic') secrets.push(...basicForms(secret, `credential:${c.name}`))
    const live = liveCredential(c, secret)
    if (typeof live === 'string') {
      unavailable.set(c.service, { id: c.id, name: c.name, service: c.service, reason: live })
      continue
    }
    byService.set(c.service, live)
    const problems = secretProblems(secret)
    if (problems.length > 0) {
      warnings.push({ name: c.name, service: c.service, problems: problems.map((p) => p.message) })
    }
  }
  for (const u of load.unavailable) {
    // A row with damaged settings may still hold a readable secret: keep redacting it.
    if (u.secret !== null) secrets.push(...secretForms(revealSecret(u.secret), `credential:${u.name}`))
    if (!byService.has(u.service)) {
      unavailable.set(u.service, { id: u.id, name: u.name, service: u.service, reason: u.reason })
    }
  }
  const agentsByHash = new Map<string, LiveAgent>()
  const unavailableAgents: UnavailableAgent[] = []
  const refusedAgentsByHash = new Map<string, UnavailableAgent>()
  const refusedGrants: UnavailableAgent[] = []
  for (const a of agents) {
    const live = liveAgent(a)
    const refused = a.refusedGrants !== undefined && a.refusedGrants.length > 0 ? a.refusedGrants : undefined
    if (typeof live === 'string') {
      const entry = { id: a.id, name: a.name, reason: live, ...(refused ? { refusedGrants: refused } : {}) }
      unavailableAgents.push(entry)
      if (a.tokenHash.length === 32) refusedAgentsByHash.set(a.tokenHash.toString('hex'), entry)
      continue
    }
    // A stored row that claims a served agent's token is not that agent: the served one wins.
    agentsByHash.set(a.tokenHash.toString('hex'), live)
    if (refused) {
      refusedGrants.push({
        id: a.id,
        name: a.name,
        reason: 'has a stored grant that fails its seal',
        refusedGrants: refused,
      })
    }
  }
  for (const hash of agentsByHash.keys()) refusedAgentsByHash.delete(hash)
  return {
    version,
    byService,
    agentsByHash,
    matcher: matcherFor(secrets, previous),
    unavailable,
    warnings,
    unavailableAgents,
    refusedAgentsByHash,
    refusedGrants,
  }
}

/** An agent prepared for the hot path, or why its record cannot be used (fails closed: left out). */
function liveAgent(a: AgentRecord): LiveAgent | string {
  if (a.damaged !== undefined) return a.damaged
  if (a.tokenHash.length !== 32) return 'has a damaged stored token hash'
  let rate: Rate | null = null
  if (a.rateLimit !== null) {
    try {
      rate = parseRate(a.rateLimit)
    } catch {
      return 'has an invalid stored rate limit'
    }
  }
  return {
    id: a.id,
    name: a.name,
    prefix: a.prefix,
    tokenHash: a.tokenHash,
    rate,
    maxInFlight: a.maxInFlight,
    grants: new Set(a.grants),
  }
}

export const EMPTY_SNAPSHOT: Snapshot = {
  version: '',
  byService: new Map(),
  agentsByHash: new Map(),
  matcher: matcherFor([], undefined),
  unavailable: new Map(),
  warnings: [],
  unavailableAgents: [],
  refusedAgentsByHash: new Map(),
  refusedGrants: [],
}

export interface LiveStateOptions {
  source: CredentialSource
  /** How often to compare the store's change token. Default 250 ms. */
  pollIntervalMs?: number
  onReload?: (snapshot: Snapshot) => void
  onError?: (error: unknown) => void
}

/**
 * Holds the current snapshot and swaps it when the store changes. A timer compares the store's
 * change token (a pragma read, no table scan); credentials are decrypted only on change.
 */
export class LiveState {
  #current: Snapshot = EMPTY_SNAPSHOT
  /** The current snapshot was built while the source was sealed: it holds no agent or credential. */
  #builtSealed = false
  #timer: NodeJS.Timeout | null = null
  readonly #options: LiveStateOptions

  constructor(options: LiveStateOptions) {
    this.#options = options
    this.refresh()
  }

  /**
   * The snapshot requests are served from. One built while the source was sealed is empty; once
   * the source is unsealed it is rebuilt here, on the next request, rather than at the next poll:
   * until then a request read it and was refused as if its agent and service did not exist
   * (`agent_auth_invalid`, `service_not_found`), answers an SDK does not retry.
   */
  get current(): Snapshot {
    if (this.#builtSealed && !this.isSealed()) {
      try {
        this.refresh()
      } catch (error) {
        this.#options.onError?.(error)
      }
    }
    return this.#current
  }

  /** The source's own word, read now: a seal takes effect on the next request, not the next poll. */
  isSealed(): boolean {
    return this.#options.source.isSealed?.() === true
  }

  /** Re-reads the store if its change token moved. Returns true when a new snapshot was built. */
  refresh(): boolean {
    const { source } = this.#options
    const token = source.changeToken()
    if (token === this.#current.version) return false
    const sealed = this.isSealed()
    const credentials = source.loadCredentials ? source.loadCredentials() : source.loadAll()
    this.#current = buildSnapshot(token, credentials, source.loadAgents?.() ?? [], this.#current)
    this.#builtSealed = sealed
    this.#options.onReload?.(this.#current)
    return true
  }

  start(): void {
    if (this.#timer) return
    this.#timer = setInterval(() => {
      try {
        this.refresh()
      } catch (error) {
        // Keep serving the last good snapshot; the caller decides how loudly to say so.
        this.#options.onError?.(error)
      }
    }, this.#options.pollIntervalMs ?? 250)
    this.#timer.unref()
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = null
  }
}
