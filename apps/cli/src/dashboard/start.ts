/**
 * Serves the dashboard beside a gate (or, without one, beside the ledger): what `aegis dashboard`
 * does after starting the gate, and what `aegis gate` does when `dashboard.enabled` is true.
 */
import { type AddressInfo, isIPv6 } from 'node:net'
import { fileURLToPath } from 'node:url'
import type { AegisConfig } from '@aegis/config'
import type { LedgerStore } from '@aegis/ledger'
import { connectionLimits, connectionLimitsFromConfig } from '@aegis/proxy/internal'
import { rbacRecord, sealedRbacHint, type VaultStore } from '@aegis/vault'
import { gateUrlFrom } from '../lib/agent-env.js'
import { bindFailureMessage } from '../lib/bind-error.js'
import { CliError } from '../lib/errors.js'
import type { GateRuntime } from '../lib/gate-runtime.js'
import { createLogger } from '../lib/logger.js'
import { availableMasterKey } from '../lib/rbac-bootstrap.js'
import type { Storage } from '../lib/storage.js'
import { withUserStore } from '../lib/user-store.js'
import {
  DASHBOARD_MAX_CONNECTIONS,
  type DashboardDeps,
  type GateStatus,
  type UserAccess,
  type VaultAccess,
} from './deps.js'
import { embeddedGateStatus, externalGateStatus } from './gate-status.js'
import { dashboardHosts } from './host.js'
import { ApiError } from './respond.js'
import { createDashboardServer } from './server.js'

// The built SPA, copied beside the commands by scripts/copy-dashboard.js (dist/commands/ → dist/dashboard/).
const STATIC_ROOT = fileURLToPath(new URL('../dashboard', import.meta.url))

const LOOPBACK_BINDS: ReadonlySet<string> = new Set(['127.0.0.1', 'localhost', '::1'])

export interface StartDashboardOptions {
  config: AegisConfig
  /** The gate this process runs, or null: then the ledger is read and the gate at gate.port asked. */
  gate: GateRuntime | null
  storage: Storage
  vaultName: string
  /** Runs `fn` on the active vault with the command's key (throws CliError when none is at hand). */
  withVault: <R>(fn: (vault: VaultStore) => R | Promise<R>) => Promise<R>
  warn: (line: string) => void
  /** The flag that sets the dashboard's port in this command, if it has one (`aegis dashboard --port`). */
  portFlag?: string
}

export interface RunningDashboard {
  port: number
  /** `http://<address bound, 127.0.0.1 for a wildcard>:<port>/login#t=…`: logs in once, within 5 minutes. */
  loginUrl: string
  /** The gate's logger, or the one made for the dashboard alone. */
  logger: ReturnType<typeof createLogger>
  /** Closes the dashboard (and the ledger it opened itself; a gate's is the gate's to close). */
  close(): Promise<void>
}

export async function startDashboard(options: StartDashboardOptions): Promise<RunningDashboard> {
  const { config, gate, storage } = options
  let ledger: LedgerStore
  let gateStatus: () => Promise<GateStatus>
  if (gate) {
    ledger = gate.ledger
    gateStatus = embeddedGateStatus(gate.address.url, gate)
  } else {
    ledger = await storage.openLedger()
    // Where the gate serves: its host (a wildcard bind polled on loopback) and, with gate.tls, https.
    const url = gateUrlFrom(config.gate.host, config.gate.port, config.gate.tls.enabled)
    gateStatus = externalGateStatus(url, options.vaultName)
  }
  const logger = gate?.logger ?? createLogger(config)
  const sealedVault = gate?.vault
  const vault: VaultAccess = {
    name: options.vaultName,
    use: async (fn) => {
      if (sealedVault?.isSealed()) throw new ApiError(503, 'sealed', 'The vault is sealed')
      // The gate's own key first: unsealed over its admin socket, the key is in its memory only.
      const openStore = sealedVault?.openStore?.bind(sealedVault)
      if (sealedVault && openStore) return withStore(openStore, () => sealedVault.isSealed(), fn)
      try {
        return await options.withVault(fn)
      } catch (error) {
        // Only the key lookup throws a CliError here (no key at hand: split and not unsealed). Its
        // words name the way out (unseal with --key-file: a gate's key stays in that gate's memory).
        if (error instanceof CliError) throw new ApiError(503, 'sealed', error.message)
        throw error
      }
    },
  }
  const dataDir = config.vault.data_dir
  // No user store is bootstrap only while RBAC was never turned on: the key-less hint, else the
  // sealed state — of the gate's open vault, or read with the key this command holds (derived once
  // per process; only while there is no user store).
  const sealedSince = gate
    ? () => gate.vault.rbacSince()
    : () => {
        const masterKey = availableMasterKey(config)
        return masterKey === undefined
          ? null
          : sealedRbacHint({ dataDir, name: options.vaultName, masterKey })
      }
  const users: UserAccess = {
    use: (fn) => withUserStore(storage, fn),
    rbacSince: rbacRecord(dataDir, sealedSince),
    dataDir,
  }
  const limits = connectionLimits(connectionLimitsFromConfig(config))
  const deps: DashboardDeps = {
    allowedHosts: dashboardHosts(config.dashboard.allowed_hosts),
    connections: { ...limits, maxConnections: Math.min(limits.maxConnections, DASHBOARD_MAX_CONNECTIONS) },
    staticRoot: STATIC_ROOT,
    ledger,
    users,
    starterToken: process.env.AEGIS_USER_TOKEN?.trim() || undefined,
    vault,
    gateStatus,
    logger,
  }
  const server = createDashboardServer(deps)
  const close = async () => {
    await server.close()
    if (!gate) await ledger.close()
  }
  let bound: AddressInfo
  try {
    bound = await server.listen(config.dashboard.host, config.dashboard.port)
  } catch (error) {
    await close()
    throw new CliError(
      `Cannot start the dashboard on ${config.dashboard.host}:${config.dashboard.port}: ${bindFailureMessage(error, config.dashboard.port, { flag: options.portFlag, key: 'dashboard.port' })}`,
    )
  }
  const host = config.dashboard.host
  if (!LOOPBACK_BINDS.has(host)) {
    options.warn(
      `The dashboard listens on ${host}, beyond this machine, over plain HTTP: put a TLS proxy in front, and add the name browsers use to dashboard.allowed_hosts (other names get 403)`,
    )
  }
  const link = `http://${linkHost(bound.address)}:${bound.port}/login#t=${server.issueLoginToken()}`
  return { port: bound.port, loginUrl: link, logger, close }
}

/** `fn` on a store the gate opened with its key, closed after; sealed meanwhile is a 503 `sealed`. */
async function withStore<R>(
  open: () => VaultStore,
  isSealed: () => boolean,
  fn: (vault: VaultStore) => Promise<R>,
): Promise<R> {
  let store: VaultStore
  try {
    store = open()
  } catch (error) {
    // Sealed between the check and the open (`vault seal` over the socket).
    if (isSealed()) throw new ApiError(503, 'sealed', 'The vault is sealed')
    throw error
  }
  try {
    return await fn(store)
  } finally {
    await store.close()
  }
}

/**
 * The address the login link names: the one the server is bound to (`::1` alone does not answer on
 * 127.0.0.1), 127.0.0.1 for a wildcard bind. An IP address, which the Host allowlist always accepts.
 */
export function linkHost(address: string): string {
  if (address === '0.0.0.0' || address === '::') return '127.0.0.1'
  return isIPv6(address) ? `[${address}]` : address
}
