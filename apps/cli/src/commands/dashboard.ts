import { fileURLToPath } from 'node:url'
import { authorize } from '@aegis/access'
import type { LedgerStore } from '@aegis/ledger'
import { Flags } from '@oclif/core'
import { AegisCommand } from '../base-command.js'
import type { DashboardDeps, GateStatus, UserAccess, VaultAccess } from '../dashboard/deps.js'
import { embeddedGateStatus, externalGateStatus } from '../dashboard/gate-status.js'
import { dashboardHosts } from '../dashboard/host.js'
import { ApiError } from '../dashboard/respond.js'
import { createDashboardServer } from '../dashboard/server.js'
import { CliError } from '../lib/errors.js'
import {
  type GateRuntime,
  gateFlags,
  gateOverrides,
  startGateRuntime,
  untilSignal,
} from '../lib/gate-runtime.js'
import { createLogger } from '../lib/logger.js'
import { withUserStore } from '../lib/user-store.js'
import { growYoungGeneration } from '../lib/young-generation.js'

// The built SPA, copied beside the commands by scripts/copy-dashboard.js (dist/commands/ → dist/dashboard/).
const STATIC_ROOT = fileURLToPath(new URL('../dashboard', import.meta.url))

const LOOPBACK_BINDS: ReadonlySet<string> = new Set(['127.0.0.1', 'localhost', '::1'])

export default class Dashboard extends AegisCommand<typeof Dashboard> {
  static override summary = 'Start the gate and the web dashboard (login link printed once)'
  static override description =
    'Serves the dashboard on dashboard.host (127.0.0.1) and prints a one-time login link (5 minutes, single use). ' +
    'Starts the gate exactly as aegis gate does, unless --no-gate (then it reads the ledger and asks the gate at --gate-port for its health).'
  static override enableJsonFlag = false

  static override examples = [
    '<%= config.bin %> dashboard',
    '<%= config.bin %> dashboard --port 0 --gate-port 0',
    '<%= config.bin %> dashboard --no-gate --gate-port 3100',
  ]

  static override flags = {
    ...gateFlags,
    port: Flags.integer({
      description: 'Dashboard port; 0 picks a free port (default dashboard.port, 3200)',
      min: 0,
      max: 65535,
    }),
    'gate-port': Flags.integer({
      description: "The gate's port (default gate.port, 3100); with --no-gate, where the running gate is",
      min: 0,
      max: 65535,
    }),
    gate: Flags.boolean({
      description: 'Start the gate too (--no-gate: use one already running)',
      default: true,
      allowNo: true,
    }),
  }

  async run(): Promise<void> {
    const { flags } = this
    const config = this.loadAegisConfig({
      gate: gateOverrides({ ...flags, port: flags['gate-port'] }),
      dashboard: { port: flags.port },
    })
    const dataDir = this.dataDir()
    if (!flags.gate && config.gate.port === 0) {
      this.fail('--gate-port 0 with --no-gate: name the port of the running gate (1-65535)')
    }
    // Starting the gate is what `aegis gate` does: the same permission, through the same authorize.
    if (flags.gate && this.actor !== null) {
      const decision = authorize(this.actor, 'gate:start')
      if (!decision.allowed)
        this.fail(`${decision.reason} (aegis dashboard --no-gate opens it on a running gate)`)
    }

    // The engine the dashboard reads users (and, with --no-gate, the ledger) from, for its lifetime.
    const storage = await this.storage()
    let gate: GateRuntime | null = null
    let ledger: LedgerStore
    let gateStatus: () => Promise<GateStatus>
    if (flags.gate) {
      gate = await startGateRuntime({
        config,
        dataDir,
        vaultName: this.activeVaultName(),
        masterKey: () => this.masterKey(),
        version: this.config.version,
        log: (line) => this.log(line),
        warn: (line) => this.warn(line),
      })
      ledger = gate.ledger
      gateStatus = embeddedGateStatus(gate.address.url, gate)
    } else {
      ledger = await storage.openLedger()
      gateStatus = externalGateStatus(`http://127.0.0.1:${config.gate.port}`, this.activeVaultName())
    }
    const logger = gate?.logger ?? createLogger(config)
    const sealedVault = gate?.vault
    const vault: VaultAccess = {
      name: this.activeVaultName(),
      use: async (fn) => {
        if (sealedVault?.isSealed()) throw new ApiError(503, 'sealed', 'The vault is sealed')
        try {
          return await this.withVault(fn)
        } catch (error) {
          // Only the key lookup throws a CliError here (no key at hand: split and not unsealed).
          if (error instanceof CliError)
            throw new ApiError(503, 'sealed', 'The vault key is not at hand (sealed)')
          throw error
        }
      },
    }
    const users: UserAccess = { use: (fn) => withUserStore(storage, fn) }
    const deps: DashboardDeps = {
      allowedHosts: dashboardHosts(config.dashboard.allowed_hosts),
      staticRoot: STATIC_ROOT,
      ledger,
      users,
      starterToken: process.env.AEGIS_USER_TOKEN?.trim() || undefined,
      vault,
      gateStatus,
      logger,
    }
    const server = createDashboardServer(deps)
    const stopAll = async () => {
      await server.close()
      if (gate) await gate.stop()
      else await ledger.close()
    }
    let port: number
    try {
      port = await server.listen(config.dashboard.host, config.dashboard.port)
    } catch (error) {
      await stopAll()
      throw new CliError(
        `Cannot start the dashboard on ${config.dashboard.host}:${config.dashboard.port}: ${(error as Error).message}`,
      )
    }
    const host = config.dashboard.host
    if (!LOOPBACK_BINDS.has(host)) {
      this.warn(
        `The dashboard listens on ${host}, beyond this machine, over plain HTTP: put a TLS proxy in front, and add the name browsers use to dashboard.allowed_hosts (other names get 403)`,
      )
    }
    // The link names a loopback address the Host allowlist accepts, whatever interface is bound.
    this.log(`dashboard: http://127.0.0.1:${port}/login#t=${server.issueLoginToken()}`)
    // Loaded and listening: V8's young generation may grow now, up to its cap (bin/run.js holds it).
    growYoungGeneration()
    await untilSignal(logger)
    await stopAll()
    this.log('Aegis dashboard stopped')
  }
}
