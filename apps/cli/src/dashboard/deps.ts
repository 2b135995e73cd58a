/** What the dashboard server is given by `aegis dashboard`: no globals, no env reads below here. */
import type { Ledger } from '@aegis/ledger'
import type { Vault } from '@aegis/vault'

/** What the Overview says about the gate. */
export interface GateStatus {
  mode: 'embedded' | 'external'
  url: string
  reachable: boolean
  sealed: boolean
  vault: string
}

/**
 * The active vault for the credential and agent routes, opened per use and closed after it (as the
 * CLI commands do). `use` throws `ApiError(503, 'sealed')` when no key is at hand.
 */
export interface VaultAccess {
  readonly name: string
  use<R>(fn: (vault: Vault) => R): Promise<R>
}

export interface DashboardLogger {
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
}

export interface DashboardDeps {
  /** `dashboard.allowed_hosts`, lower-cased. */
  allowedHosts: ReadonlySet<string>
  /** `dist/dashboard` of the built CLI (may not exist: SPA routes then answer 503). */
  staticRoot: string
  ledger: Ledger
  /** `<data_dir>/access.db`. */
  accessFile: string
  /** The AEGIS_USER_TOKEN of whoever started the dashboard (undefined under bootstrap). */
  starterToken: string | undefined
  vault: VaultAccess
  gateStatus: () => Promise<GateStatus>
  logger: DashboardLogger
}
