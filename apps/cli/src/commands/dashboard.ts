import { authorize } from '@aegis/access'
import type { AegisConfig } from '@aegis/config'
import type { StopSignals } from '@aegis/proxy/internal'
import { Flags } from '@oclif/core'
import { AegisCommand } from '../base-command.js'
import { type RunningDashboard, startDashboard } from '../dashboard/start.js'
import { type GateRuntime, gateFlags, gateOverrides, startGateRuntime } from '../lib/gate-runtime.js'
import { untilStopped } from '../lib/until-stopped.js'
import { growYoungGeneration } from '../lib/young-generation.js'

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
    if (!flags.gate && config.gate.port === 0) {
      this.fail('--gate-port 0 with --no-gate: name the port of the running gate (1-65535)')
    }
    // Starting the gate is what `aegis gate` does: the same permission, through the same authorize.
    if (flags.gate && this.actor !== null) {
      const decision = authorize(this.actor, 'gate:start')
      if (!decision.allowed)
        this.fail(
          `Permission denied: ${decision.reason} (aegis dashboard --no-gate opens it on a running gate)`,
        )
    }

    await untilStopped(
      'the dashboard',
      (line) => this.logToStderr(line),
      (signals) => this.#serve(config, signals),
    )
  }

  async #serve(config: AegisConfig, signals: StopSignals): Promise<void> {
    const { flags } = this
    const dataDir = this.dataDir()
    // The engine the dashboard reads users (and, with --no-gate, the ledger) from, for its lifetime.
    const storage = await this.storage()
    let gate: GateRuntime | null = null
    if (flags.gate) {
      gate = await startGateRuntime({
        config,
        dataDir,
        vaultName: this.activeVaultName(),
        masterKey: () => this.masterKey(),
        version: this.config.version,
        log: (line) => this.log(line),
        warn: (line) => this.warn(line),
        portFlag: '--gate-port',
      })
    }
    let dashboard: RunningDashboard
    try {
      dashboard = await startDashboard({
        config,
        gate,
        storage,
        vaultName: this.activeVaultName(),
        withVault: (fn) => this.withVault(fn),
        warn: (line) => this.warn(line),
        portFlag: '--port',
      })
    } catch (error) {
      await gate?.stop()
      throw error
    }
    const stopAll = async () => {
      await dashboard.close()
      if (gate) await gate.stop()
    }
    this.log(`dashboard: ${dashboard.loginUrl}`)
    // Loaded and listening: V8's young generation may grow now, up to its cap (bin/run.js holds it).
    growYoungGeneration()
    const reason = await Promise.race([
      signals.started((signal) => dashboard.logger.info({ signal }, 'shutting down')).then(() => null),
      gate?.mustStop ?? new Promise<never>(() => {}),
    ])
    await stopAll()
    if (reason !== null) this.fail(reason)
    this.log('Aegis dashboard stopped')
  }
}
