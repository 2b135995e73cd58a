import type { Scope } from '@aegis/guard'

/**
 * A secret as the gate takes it: any object whose `reveal()` returns the plaintext (the vault's
 * `Secret` is one), or the plaintext itself. Structural, so a source needs no import from the vault.
 */
export type SecretValue = string | { reveal(): string }

/** How the gate injects the secret into the upstream request. */
export type AuthType = 'bearer' | 'header' | 'basic' | 'query'
/** What the gate does when an outbound request carries a credential's secret. */
export type BodyInspection = 'off' | 'warn' | 'block'

/**
 * One credential as a `CredentialSource` hands it to the gate (the fields the gate reads). The
 * optional ones default to the strictest reading: no expiry, no rate limit, `Bearer` injection,
 * outbound inspection `block`. A value the gate cannot read (an unknown `authType`, a `header`
 * credential without `headerName`, an `expiresAt` that is not a date) makes the credential
 * unavailable: its service is refused, never served half-configured.
 */
export interface SourceCredential {
  readonly id: string
  readonly name: string
  /** The name agents use in the URL: `/<service>/...`. */
  readonly service: string
  /** Allowed upstream hosts (guard domain patterns: `api.example.com`, `*.example.com`). */
  readonly domains: readonly string[]
  /** What agents may do with it (`read`, `write`, `delete`, `*`); no default — authorisation is explicit. */
  readonly scopes: readonly Scope[]
  /** ISO 8601, or null (the default) when it never expires. */
  readonly expiresAt?: string | null
  /** A rate string such as `100/min` (guard `parseRate`), or null (the default) for none. */
  readonly rateLimit?: string | null
  /** Default `bearer`. */
  readonly authType?: AuthType
  /** The header for `authType: 'header'`, else null. */
  readonly headerName?: string | null
  /** The query parameter for `authType: 'query'` (default `key`), else null. */
  readonly queryParam?: string | null
  /** Default `block`. */
  readonly bodyInspection?: BodyInspection
  readonly secret: SecretValue
}

/** A credential the source holds but cannot hand over (damaged): its service is refused. */
export interface SourceUnavailableCredential {
  readonly id: string
  readonly name: string
  readonly service: string
  /** Why, one line, never a secret. */
  readonly reason: string
  /** The secret when it is still readable (so the gate keeps redacting it), else null. */
  readonly secret: SecretValue | null
}

/** The usable credentials plus the ones that are not. */
export interface CredentialLoad {
  readonly credentials: readonly SourceCredential[]
  readonly unavailable: readonly SourceUnavailableCredential[]
}

/** An agent identity: who may call the gate, with which grants and limits. */
export interface AgentRecord {
  readonly id: string
  readonly name: string
  /** The token's display prefix (its first 12 characters). */
  readonly prefix: string
  /** guard `hashAgentToken(token)`: 32 bytes. The gate never sees the token itself stored. */
  readonly tokenHash: Buffer
  readonly rateLimit: string | null
  readonly maxInFlight: number | null
  /** Ids of the credentials this agent may use. */
  readonly grants: readonly string[]
  /**
   * Set when the record is damaged or fails its seal (why, never a token): the agent is left out,
   * and a request with the token whose hash `tokenHash` holds is refused naming it.
   */
  readonly damaged?: string
  /** Ids of credentials whose stored grant to this agent is refused: not in `grants`, only reported. */
  readonly refusedGrants?: readonly string[]
}

/**
 * Where the gate reads credentials and agents from. `@aegis/vault`'s `Vault` satisfies it
 * (checked at compile time in test/credential-source.test.ts); an in-memory object does too.
 */
export interface CredentialSource {
  /**
   * Every credential. Used when `loadCredentials` is absent. When it throws, the gate keeps its
   * last snapshot, so one bad row stops a gate that has none yet from starting.
   */
  loadAll(): readonly SourceCredential[]
  /**
   * Preferred over `loadAll`: the usable credentials plus the rows that cannot be used. The gate
   * serves the first and refuses the services of the others (`credential_unavailable`).
   */
  loadCredentials?(): CredentialLoad
  /** Agents and their grants; a source without agents has none. */
  loadAgents?(): readonly AgentRecord[]
  /** Cheap token that changes whenever the source changes (in this or another process). */
  changeToken(): string
  /**
   * True while the source holds no key to decrypt with (a vault waiting to be unsealed): the gate
   * refuses every proxied request with 503 `sealed` and reports `sealed: true` on its health
   * endpoint. Read on every request, so it must be cheap. Absent means never sealed.
   */
  isSealed?(): boolean
}

/** The plaintext of a secret in either form. */
export function revealSecret(secret: SecretValue): string {
  return typeof secret === 'string' ? secret : secret.reveal()
}
