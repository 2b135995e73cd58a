import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { openLedger } from '@aegis/ledger'
import { createGate } from '@aegis/proxy'
import { Flags } from '@oclif/core'
import { AegisCommand } from '../base-command.js'
import { createLogger } from '../lib/logger.js'

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

  static override flags = {
    host: Flags.string({ description: 'Interface to bind (default 127.0.0.1)' }),
    port: Flags.integer({
      description: 'Port to listen on; 0 picks a free port (default 3100)',
      min: 0,
      max: 65535,
    }),
    tls: Flags.boolean({ description: 'Serve HTTPS (needs --cert and --key, or gate.tls in the config)' }),
    cert: Flags.string({ description: 'TLS certificate (PEM) for --tls' }),
    key: Flags.string({ description: 'TLS private key (PEM) for --tls' }),
    'require-agent-auth': Flags.boolean({
      description: 'Refuse requests without a valid X-Aegis-Agent token',
      allowNo: true,
    }),
    'policies-dir': Flags.string({ description: 'Folder of YAML agent policies (hot-reloaded)' }),
    'policy-mode': Flags.string({
      description: 'enforce: refuse; dry-run: forward and record what would be refused; off: ignore policies',
      options: ['enforce', 'dry-run', 'off'],
    }),
    'upstream-ca': Flags.string({
      description: 'Extra CA certificate (PEM file) trusted for upstream TLS; repeatable',
      multiple: true,
    }),
    resolve: Flags.string({
      description: 'Dial HOST:PORT at ADDR:APORT instead of resolving it (as curl --resolve); repeatable',
      helpValue: 'HOST:PORT:ADDR:APORT',
      multiple: true,
    }),
  }

  async run(): Promise<void> {
    const { flags } = this
    const config = this.loadAegisConfig({
      gate: {
        host: flags.host,
        port: flags.port,
        tls:
          flags.tls || flags.cert || flags.key
            ? { enabled: flags.tls || undefined, cert: flags.cert, key: flags.key }
            : undefined,
        require_agent_auth: flags['require-agent-auth'],
        policies_dir: flags['policies-dir'],
        policy_mode: flags['policy-mode'] as 'enforce' | 'dry-run' | 'off' | undefined,
        upstream: { ca_file: flags['upstream-ca'], resolve: flags.resolve },
      },
    })
    const gateConfig = config.gate
    const tls = gateConfig.tls.enabled
      ? {
          cert: this.readPem(gateConfig.tls.cert, 'gate.tls.cert'),
          key: this.readPem(gateConfig.tls.key, 'gate.tls.key'),
        }
      : undefined
    const ca = gateConfig.upstream.ca_file.map((file) => this.readPem(file, '--upstream-ca'))
    const logger = createLogger(config)
    const vault = this.openActiveVault()
    const ledger = openLedger({ file: join(this.dataDir(), 'ledger.db') })

    const gate = createGate({
      credentials: vault,
      audit: ledger,
      logger,
      host: gateConfig.host,
      port: gateConfig.port,
      tls,
      limits: {
        maxBodySize: gateConfig.max_body_size,
        requestTimeout: gateConfig.request_timeout,
        shutdownTimeout: gateConfig.shutdown_timeout,
        agentMaxInFlight: gateConfig.agent_max_in_flight,
      },
      upstream: { ca, resolve: gateConfig.upstream.resolve, allowPrivate: gateConfig.upstream.allow_private },
      requireAgentAuth: gateConfig.require_agent_auth,
      policies:
        gateConfig.policies_dir === undefined && gateConfig.policy_default === 'allow'
          ? undefined
          : {
              dir: gateConfig.policies_dir,
              mode: gateConfig.policy_mode,
              defaultPolicy: gateConfig.policy_default,
            },
    })

    let address: Awaited<ReturnType<typeof gate.listen>>
    try {
      address = await gate.listen()
    } catch (error) {
      await ledger.close()
      vault.close()
      this.fail(error instanceof Error ? error.message : String(error))
    }
    this.log(`Aegis gate listening on ${address.url} (vault "${vault.name}")`)
    if (!gateConfig.require_agent_auth) {
      this.warn(
        'Agent authentication is off: any local process can use these credentials (enable with --require-agent-auth)',
      )
    }

    await new Promise<void>((resolve) => {
      let stopping = false
      const stop = (signal: NodeJS.Signals) => {
        if (stopping) return
        stopping = true
        logger.info({ signal }, 'shutting down')
        gate
          .close()
          .catch((error: unknown) => logger.error({ err: String(error) }, 'shutdown failed'))
          .then(() => ledger.close())
          .finally(() => {
            vault.close()
            logger.flush?.()
            resolve()
          })
      }
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
    })
    this.log('Aegis gate stopped')
  }

  private readPem(file: string | undefined, key: string): string {
    if (file === undefined) this.fail(`${key} is required`)
    try {
      return readFileSync(file, 'utf8')
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'unreadable'
      this.fail(`Cannot read ${key} file ${file} (${code})`)
    }
  }
}
