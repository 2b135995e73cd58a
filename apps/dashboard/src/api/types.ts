import type { Permission, Role } from '@aegis/access'
import type { LedgerEntry, RequestDecision } from '@aegis/ledger'

/**
 * The JSON shapes of the dashboard API (docs: /work/notes/dashboard-contract.md, "API").
 * Ledger, role and permission types come from their packages (type-only imports: nothing of them
 * reaches the browser bundle); the vault/agent items mirror `vault list --json` / `agent list --json`.
 */
export type { LedgerEntry, Permission, RequestDecision, Role }

export type Actor = { kind: 'user'; name: string; role: Role } | { kind: 'bootstrap' }

export interface Me {
  actor: Actor
  permissions: Permission[]
}

export interface Overview {
  gate: {
    mode: 'embedded' | 'external'
    url: string
    reachable: boolean
    sealed: boolean
    /** The gate's health answer: only `ok` is serving (see the server's `GateHealth`). */
    status: 'ok' | 'draining' | 'sealed' | 'ledger_unavailable' | 'unavailable' | 'unreachable'
    vault: string
  }
  window: {
    seconds: number
    requests: number
    reqPerS: number
    blocked: number
    blockRate: number
    failed: number
    p95Ms: number | null
  }
  timeline: { bucketSeconds: number; buckets: TimelineBucket[] }
  topBlocked: CodeCount[]
  expiring: ExpiringCredential[] | null
}

export interface TimelineBucket {
  /** ISO start of the bucket. */
  t: string
  allowed: number
  blocked: number
  failed: number
}

export interface CodeCount {
  code: string
  count: number
}

export interface ExpiringCredential {
  name: string
  service: string
  expiresAt: string
  daysLeft: number
}

export interface RequestsPage {
  items: LedgerEntry[]
  hasMore: boolean
}

export interface BlockedGroup {
  code: string
  agent: string | null
  count: number
  lastSeen: string
}

export interface BlockedReport {
  since: string
  groups: BlockedGroup[]
  total: number
}

/** A `vault list --json` item: metadata only. */
export interface CredentialItem {
  id: string
  name: string
  service: string
  domains: string[]
  authType: string
  headerName?: string
  queryParam?: string
  scopes: string[]
  expiresAt: string | null
  rateLimit: string | null
  bodyInspection: string
  createdAt: string
  updatedAt: string
  rotatedAt: string | null
}

export interface CredentialList {
  vault: string
  items: CredentialItem[]
}

/** An `agent list --json` item: metadata only (the token prefix is not the token). */
export interface AgentItem {
  name: string
  prefix: string
  rateLimit: string | null
  maxInFlight: number | null
  grants: string[]
  createdAt: string
  updatedAt: string
  tokenRotatedAt: string | null
}

/** A `GET /api/users` item, as the server sends it (field by field): no token, no hash. */
export interface UserItem {
  name: string
  role: Role
  createdAt: string
  /** When the role or the token last changed (`createdAt` until then). */
  updatedAt: string
  /** When the user's current token was last presented, to the minute; null: never. */
  lastUsedAt: string | null
}

export interface ItemList<T> {
  items: T[]
}
