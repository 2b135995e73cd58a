import type { Scope } from '@aegis/guard'
import type { Secret } from './secret.js'

export type { Scope }

/** How the gate injects the secret into the upstream request. */
export type AuthType = 'bearer' | 'header' | 'basic' | 'query'
/** What the gate does when an outbound request carries a vault secret. */
export type BodyInspection = 'off' | 'warn' | 'block'

/** Input to `Vault.add`. */
export interface NewCredential {
  name: string
  service: string
  secret: string | Secret
  domains: string[]
  /** Default `bearer`. */
  authType?: AuthType
  /** Required for (and only allowed with) `authType: 'header'`. */
  headerName?: string | null
  /** Only with `authType: 'query'`; default `key`. */
  queryParam?: string | null
  /** Default `['*']`. */
  scopes?: Scope[]
  /** Expires this many days from now. Exclusive with `expiresAt`. */
  ttlDays?: number | null
  /** Explicit expiry (ISO 8601 string or Date). Exclusive with `ttlDays`. */
  expiresAt?: string | Date | null
  /** A rate string such as `100/min` (see guard `parseRate`); null for none. */
  rateLimit?: string | null
  /** Default `block`. */
  bodyInspection?: BodyInspection
}

/** Input to `Vault.update`: every field optional; `null` clears the optional ones. */
export interface CredentialPatch {
  domains?: string[]
  authType?: AuthType
  headerName?: string | null
  queryParam?: string | null
  scopes?: Scope[]
  rateLimit?: string | null
  bodyInspection?: BodyInspection
  ttlDays?: number | null
  expiresAt?: string | Date | null
}

/** Credential metadata; never contains the secret. */
export interface CredentialInfo {
  id: string
  name: string
  service: string
  domains: string[]
  authType: AuthType
  headerName: string | null
  queryParam: string | null
  scopes: Scope[]
  /** ISO 8601 UTC, or null when the credential never expires. */
  expiresAt: string | null
  rateLimit: string | null
  bodyInspection: BodyInspection
  createdAt: string
  updatedAt: string
  rotatedAt: string | null
}

/** A credential with its decrypted secret. */
export type Credential = CredentialInfo & { secret: Secret }

/** A stored credential row the vault cannot use as it is (damaged on disk). Never holds secret bytes in `reason`. */
export interface UnavailableCredential {
  id: string
  name: string
  service: string
  /** Why, one line without the name: `cannot be decrypted: …`, `has an unreadable domains column`. */
  reason: string
  /** The secret, when only the settings are damaged (so the gate can still redact it); else null. */
  secret: Secret | null
}

/** What `Vault.loadCredentials` returns: the usable credentials and the rows that are not. */
export interface CredentialLoad {
  credentials: Credential[]
  unavailable: UnavailableCredential[]
}

/** One entry of `listVaults`. */
export interface VaultInfo {
  name: string
  /** Absolute path of the vault's SQLite file; `'postgresql'` for a vault in PostgreSQL. */
  file: string
  createdAt: string
  /** Number of credentials, when the database could be read. */
  credentials?: number
}

/** Input to `Vault.addAgent`. */
export interface NewAgent {
  /** `[A-Za-z0-9][A-Za-z0-9._-]{0,63}`, unique among agents. */
  name: string
  /** A rate string such as `50/min` (see guard `parseRate`); null or absent for none. */
  rateLimit?: string | null
  /** Most requests this agent may have in flight at once (positive); null or absent for no cap. */
  maxInFlight?: number | null
}

/** Input to `Vault.setAgentLimits`: absent keeps a value, `null` clears it. */
export interface AgentLimits {
  rateLimit?: string | null
  maxInFlight?: number | null
}

/** Agent metadata; never contains the token or its hash. */
export interface AgentInfo {
  id: string
  name: string
  /** The token's first characters (e.g. `aegis_AbCdEf`), to tell tokens apart. */
  prefix: string
  rateLimit: string | null
  maxInFlight: number | null
  /** Names of the credentials this agent is granted, sorted. */
  grants: string[]
  createdAt: string
  updatedAt: string
  /** When the token was last regenerated (ISO 8601 UTC), or null. */
  tokenRotatedAt: string | null
}

/** What `addAgent` / `regenerateAgentToken` return: the only time the token is available. */
export interface AgentWithToken {
  agent: AgentInfo
  token: string
}

/** An agent as the gate's snapshot needs it (`Vault.loadAgents`). */
export interface AgentRecord {
  id: string
  name: string
  prefix: string
  /** SHA-256 of the token (32 bytes); see `hashAgentToken`. */
  tokenHash: Buffer
  rateLimit: string | null
  maxInFlight: number | null
  /** Ids of the credentials this agent is granted. */
  grants: string[]
  /**
   * Set when the stored row is damaged or fails its seal (why, never a token or hash): such an
   * agent has no usable limits or grants, and the gate refuses its token and says so. `tokenHash`
   * is then the stored one when it has the right length (only to recognise that token), else empty.
   */
  damaged?: string
  /** Ids of the credentials whose grant row fails its seal: not granted (left out of `grants`). */
  refusedGrants?: string[]
}
