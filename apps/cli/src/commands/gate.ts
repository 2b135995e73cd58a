import { authorize } from '@aegis/access'
import type { AegisConfig } from '@aegis/config'
import type { StopSignals } from '@aegis/proxy/internal'
import { AegisCommand } from '../base-command.js'
import type { RunningDashboard } from '../dashboard/start.js'
import { type GateRuntime, gateFlags, gateOverrides, startGateRuntime } from '../lib/gate-runtime.js'
import { untilStopped } from '../lib/until-stopped.js'
import { growYoungGeneration } from '../lib/young-generation.js'

export default class Gate extends AegisCommand<typeof Gate> {
  static override summary =
    'Start the gate: the local HTTP proxy that injects credentials and audits every request'
  static override description =
    'With dashboard.enabled: true in the config, the web dashboard starts with it on dashboard.host:dashboard.port ' +
    '(as aegis dashboard does) and its one-time login link is printed.'
  static override enableJsonFlag = false

  static override examples = [
    '<%= config.bin %> gate',
    '<%= config.bin %> gate --port 0',
    '<%= config.bin %> gate --require-agent-auth --policies-dir ./policies --policy-mode dry-run',
    '<%= config.bin %> gate --tls --cert ./certs/aegis.crt --key ./certs/aegis.key',
    '<%= config.bin %> gate --upstream-ca ./internal-ca.pem --resolve api.internal.test:443:10.0.0.5:8443',
  ]

  static override flags = gateFlags

  async run(): Promise<void> {
    const config = this.loadAegisConfig({ gate: gateOverrides(this.flags) })
    await untilStopped(
      'the gate',
      (line) => this.logToStderr(line),
      (signals) => this.#serve(config, signals),
    )
  }

  async #serve(config: AegisConfig, signals: StopSignals): Promise<void> {
    const gate = await startGateRuntime({
      config,
      dataDir: this.dataDir(),
      vaultName: this.activeVaultName(),
      masterKey: () => this.masterKey(),
      version: this.config.version,
      log: (line) => this.log(line),
      warn: (line) => this.warn(line),
      portFlag: '--port',
    })
    let dashboard: RunningDashboard | null = null
    if (config.dashboard.enabled) {
      try {
        dashboard = await this.#startDashboard(config, gate)
      } catch (error) {
        await gate.stop()
        throw error
      }
    }
    // Loaded and listening: V8's young generation may grow now, up to its cap (bin/run.js holds it).
    growYoungGeneration()
    const reason = await Promise.race([
      signals.started((signal) => gate.logger.info({ signal }, 'shutting down')).then(() => null),
      gate.mustStop,
    ])
    await dashboard?.close()
    await gate.stop()
    if (reason !== null) this.fail(reason)
    this.log('Aegis gate stopped')
  }

  /** `dashboard.enabled: true`: the dashboard beside this gate, for those who may view it. */
  async #startDashboard(config: AegisConfig, gate: GateRuntime): Promise<RunningDashboard> {
    if (this.actor !== null) {
      const decision = authorize(this.actor, 'dashboard:view')
      if (!decision.allowed)
        this.fail(`Permission denied: ${decision.reason} (dashboard.enabled is true in the config)`)
    }
    // Loaded only when enabled: the dashboard's server (ws, its API) costs a plain gate's start.
    const { startDashboard } = await import('../dashboard/start.js')
    const dashboard = await startDashboard({
      config,
      gate,
      storage: await this.storage(),
      vaultName: this.activeVaultName(),
      withVault: (fn) => this.withVault(fn),
      warn: (line) => this.warn(line),
    })
    this.log(`dashboard: ${dashboard.loginUrl}`)
    return dashboard
  }
}
