import { AegisCommand } from '../base-command.js'
import { gateFlags, gateOverrides, startGateRuntime, untilSignal } from '../lib/gate-runtime.js'
import { growYoungGeneration } from '../lib/young-generation.js'

export default class Gate extends AegisCommand<typeof Gate> {
  static override description =
    'Start the gate: the local HTTP proxy that injects credentials and audits every request'
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
    const gate = await startGateRuntime({
      config,
      dataDir: this.dataDir(),
      vaultName: this.activeVaultName(),
      masterKey: () => this.masterKey(),
      version: this.config.version,
      log: (line) => this.log(line),
      warn: (line) => this.warn(line),
    })
    // Loaded and listening: V8's young generation may grow now, up to its cap (bin/run.js holds it).
    growYoungGeneration()
    await untilSignal(gate.logger)
    await gate.stop()
    this.log('Aegis gate stopped')
  }
}
