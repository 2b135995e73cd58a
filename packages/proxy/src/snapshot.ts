import { type DomainPattern, parseDomainPattern, parseRate, type Rate, type Scope } from '@aegis/guard'
import { buildMatcher, type SecretInput, type SecretMatcher } from '@aegis/inspect'
import type { AgentRecord, Credential } from '@aegis/vault'

export type { AgentRecord }

/** Where the gate reads credentials and agents from. `@aegis/vault`'s `Vault` satisfies it. */
export interface CredentialSource {
  loadAll(): Credential[]
  /** Agents and their grants; a source without agents has none. */
  loadAgents?(): AgentRecord[]
  /** Cheap token that changes whenever the store changes (in this or another process). */
  changeToken(): string
}

/** A credential prepared for the hot path: parsed once per snapshot, never per request. */
export interface LiveCredential {
  readonly id: string
  readonly name: string
  readonly service: string
  readonly domains: readonly DomainPattern[]
  readonly scopes: readonly Scope[]
  readonly expiresAt: number | null
  readonly rate: Rate | null
  readonly authType: Credential['authType']
  readonly headerName: string | null
  readonly queryParam: string | null
  readonly bodyInspection: Credential['bodyInspection']
  /** The secret value. Lives only in this process's memory. */
  readonly secret: string
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
}

/** The secrets each matcher was built from, so a snapshot with the same secrets can reuse it. */
const matcherInputs = new WeakMap<SecretMatcher, readonly SecretInput[]>()

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
 * Prepares the store's contents for the hot path. With `previous`, the secret matcher is carried
 * over when the secrets did not change.
 */
export function buildSnapshot(
  version: string,
  credentials: readonly Credential[],
  agents: readonly AgentRecord[] = [],
  previous?: Snapshot,
): Snapshot {
  const byService = new Map<string, LiveCredential>()
  const secrets: SecretInput[] = []
  for (const c of credentials) {
    const domains: DomainPattern[] = []
    for (const text of c.domains) {
      const parsed = parseDomainPattern(text)
      // The vault validated these on write; anything unparseable now is dropped (fails closed).
      if (parsed.ok) domains.push(parsed.pattern)
    }
    const secret = c.secret.reveal()
    secrets.push({ value: secret, kind: `credential:${c.name}` })
    byService.set(c.service, {
      id: c.id,
      name: c.name,
      service: c.service,
      domains,
      scopes: c.scopes,
      expiresAt: c.expiresAt === null ? null : Date.parse(c.expiresAt),
      rate: c.rateLimit === null ? null : parseRate(c.rateLimit),
      authType: c.authType,
      headerName: c.headerName,
      queryParam: c.queryParam,
      bodyInspection: c.bodyInspection,
      secret,
    })
  }
  const agentsByHash = new Map<string, LiveAgent>()
  for (const a of agents) {
    agentsByHash.set(a.tokenHash.toString('hex'), {
      id: a.id,
      name: a.name,
      prefix: a.prefix,
      tokenHash: a.tokenHash,
      rate: a.rateLimit === null ? null : parseRate(a.rateLimit),
      maxInFlight: a.maxInFlight,
      grants: new Set(a.grants),
    })
  }
  return { version, byService, agentsByHash, matcher: matcherFor(secrets, previous) }
}

export const EMPTY_SNAPSHOT: Snapshot = {
  version: '',
  byService: new Map(),
  agentsByHash: new Map(),
  matcher: buildMatcher([]),
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
  #timer: NodeJS.Timeout | null = null
  readonly #options: LiveStateOptions

  constructor(options: LiveStateOptions) {
    this.#options = options
    this.refresh()
  }

  get current(): Snapshot {
    return this.#current
  }

  /** Re-reads the store if its change token moved. Returns true when a new snapshot was built. */
  refresh(): boolean {
    const { source } = this.#options
    const token = source.changeToken()
    if (token === this.#current.version) return false
    this.#current = buildSnapshot(token, source.loadAll(), source.loadAgents?.() ?? [], this.#current)
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
