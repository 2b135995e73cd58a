/** What the dashboard server is given by `aegis dashboard`: no globals, no env reads below here. */
import type { RbacRecord, UserStore } from '@aegis/access'
import type { LedgerStore } from '@aegis/ledger'
import type { ConnectionLimits, Logger } from '@aegis/proxy'
import type { VaultStore } from '@aegis/vault'
import type { HostAllowlist } from './host.js'

/**
 * Whether the gate serves requests, as its health answer says: `ok`, `draining`, `sealed`,
 * `ledger_unavailable` (every request refused until the audit ledger is writable again),
 * `unavailable` (it answered, but not with a state this version knows: not serving), or
 * `unreachable` (no health answer at all).
 */
export type GateHealth = 'ok' | 'draining' | 'sealed' | 'ledger_unavailable' | 'unavailable' | 'unreachable'

/** What the Overview says about the gate. */
export interface GateStatus {
  mode: 'embedded' | 'external'
  url: string
  reachable: boolean
  sealed: boolean
  status: GateHealth
  vault: string
}

/**
 * The active vault for the credential and agent routes, opened per use and closed after it (as the
 * CLI commands do). `use` throws `ApiError(503, 'sealed')` when no key is at hand.
 */
export interface VaultAccess {
  readonly name: string
  use<R>(fn: (vault: VaultStore) => Promise<R>): Promise<R>
}

/**
 * The users of the configured engine, opened per use and closed after it: every request reads them
 * again, so a user removed, demoted or re-tokened since the login loses access at once. `fn` gets
 * null when no user store exists (SQLite: no user was ever added, bootstrap).
 */
export interface UserAccess {
  use<R>(fn: (store: UserStore | null) => Promise<R>): Promise<R>
  /**
   * What the vault says about RBAC (access `guardBootstrap`): no user store is bootstrap only while
   * this says null. Consulted only when there is no user store.
   */
  rbacSince?: RbacRecord
  /** The data directory `rbacSince` speaks for (named in the refusal). */
  dataDir?: string
}

export interface DashboardLogger {
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
}

/** The most client connections the dashboard holds at once (a few browsers, up to 64 feed sockets). */
export const DASHBOARD_MAX_CONNECTIONS = 128

export interface DashboardDeps {
  /** The names this dashboard answers to (`dashboard.allowed_hosts` and the local ones). */
  allowedHosts: HostAllowlist
  /**
   * The gate's client-connection limits (idle, header and request timeouts), with at most
   * DASHBOARD_MAX_CONNECTIONS connections: the dashboard shares the process, and its descriptors,
   * with the gate.
   */
  connections: ConnectionLimits
  /** `dist/dashboard` of the built CLI (may not exist: SPA routes then answer 503). */
  staticRoot: string
  ledger: LedgerStore
  users: UserAccess
  /** The AEGIS_USER_TOKEN of whoever started the dashboard (undefined under bootstrap). */
  starterToken: string | undefined
  vault: VaultAccess
  gateStatus: () => Promise<GateStatus>
  /** The gate's logger (the connection guard logs through it too). */
  logger: Logger
}
