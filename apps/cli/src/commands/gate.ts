import { accessFile, checkAccess, commandPermission } from '@aegis/access'
import { openLedger } from '@aegis/ledger'
import { createGate, type GateOptions, pipelineOptionsFromConfig } from '@aegis/proxy'
import {
  type AdminAuthorize,
  anonymousAccessFromConfig,
  createAdminServer,
  readPem,
} from '@aegis/proxy/internal'
import { createTelemetry } from '@aegis/telemetry'
import { readCustody, SealableVault } from '@aegis/vault'
import { Outbox } from '@aegis/webhooks'
import { Flags } from '@oclif/core'
import { AegisCommand } from '../base-command.js'
import { adminDir } from '../lib/custody.js'
import { CliError } from '../lib/errors.js'
import { ledgerPath } from '../lib/ledger-file.js'
import { createLogger } from '../lib/logger.js'
import { assertPoliciesDir } from '../lib/policies-dir.js'
import { upstreamFlags, upstreamOverrides } from '../lib/upstream-flags.js'
import { type GateWebhooks, startGateWebhooks } from '../lib/webhook-relay.js'
import { syncConfigWebhooks } from '../lib/webhooks.js'
import { invalidKeyMessage } from '../lib/workspace.js'

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
    ...upstreamFlags,
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
        upstream: upstreamOverrides(flags),
      },
    })
    const gateConfig = config.gate
    assertPoliciesDir(gateConfig.policies_dir)
    const logger = createLogger(config)
    let options: GateOptions
    const vault = this.#sealableVault()
    // Webhook events are written in the same transaction as the ledger entries that raise them.
    const outbox = new Outbox()
    const ledger = openLedger({
      file: ledgerPath(this.dataDir()),
      checkpoint: 'background',
      extensions: [outbox],
    })
    const observability = config.observability
    // One registry for this gate: it counts the pipeline's outcomes and is served at /_aegis/metrics.
    const telemetry = observability.metrics
      ? createTelemetry({ version: this.config.version, agentLabel: observability.metrics_agent_label })
      : undefined
    try {
      options = {
        ...pipelineOptionsFromConfig(config, { credentials: vault, audit: ledger, logger }),
        observer: telemetry,
        metrics: telemetry,
        metricsToken: observability.metrics_token,
        host: gateConfig.host,
        port: gateConfig.port,
        tls: gateConfig.tls.enabled
          ? {
              cert: readPem(gateConfig.tls.cert ?? '', 'gate.tls.cert'),
              key: readPem(gateConfig.tls.key ?? '', 'gate.tls.key'),
            }
          : undefined,
      }
      options.limits = { ...options.limits, shutdownTimeout: gateConfig.shutdown_timeout }
      if (!vault.isSealed()) {
        syncConfigWebhooks(outbox, config, (purpose, secret) => vault.sealSecret(purpose, secret))
      } else if (config.webhooks.length > 0) {
        logger.warn(
          'the vault is sealed: webhooks from the config file are not updated until a start with the key',
        )
      }
    } catch (error) {
      await ledger.close()
      vault.close()
      throw error
    }
    const gate = createGate(options)
    // The admin channel only wires the sealable vault to the socket protocol; after an unseal or a
    // seal the gate re-reads its source at once instead of at the next poll.
    const admin = createAdminServer({
      dir: adminDir(this.dataDir()),
      authorize: adminAuthorizer(this.dataDir()),
      logger,
      handlers: {
        status: () => vault.status(),
        unseal: async (share) => {
          const status = await vault.submitShare(share)
          gate.refresh()
          return status
        },
        resetUnseal: () => vault.resetShares(),
        seal: () => {
          vault.seal()
          gate.refresh()
          return vault.status()
        },
      },
    })

    const abort = async (message: string): Promise<never> => {
      await gate.close()
      await ledger.close()
      vault.close()
      this.fail(message)
    }
    let address: Awaited<ReturnType<typeof gate.listen>>
    try {
      address = await gate.listen()
    } catch (error) {
      return abort(error instanceof Error ? error.message : String(error))
    }
    let socket: string | null = null
    try {
      socket = await admin.listen()
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error)
      // A sealed gate without its channel could never be unsealed; an unsealed one still serves,
      // but `vault seal` cannot reach it (e.g. a data dir path too long for a Unix socket).
      if (vault.isSealed()) {
        return abort(
          `Cannot open the admin socket in ${adminDir(this.dataDir())}, so this sealed gate could never be unsealed: ${why}`,
        )
      }
      this.warn(`No admin socket (${why}): aegis vault seal and unseal cannot reach this gate`)
    }
    const webhooks: GateWebhooks = startGateWebhooks({ outbox, ledger, vault, config, logger, telemetry })
    this.log(`Aegis gate listening on ${address.url} (vault "${vault.name}")`)
    if (vault.isSealed()) {
      this.warn(
        `The vault is sealed: every request is refused (503 sealed) until aegis vault unseal sends the key shares to ${socket}`,
      )
    }
    // The pipeline logs which rule applies to requests without a token; warn when it lets them in.
    const anonymous = anonymousAccessFromConfig(config)
    if (anonymous === 'open') {
      this.warn(
        'Agent authentication is off: any local process can use these credentials (enable with --require-agent-auth)',
      )
    } else if (anonymous === 'policy-records') {
      this.warn(
        'Agent authentication is off and policies are in dry-run: requests without a token are forwarded and recorded as agent_auth_required',
      )
    }

    await new Promise<void>((resolve) => {
      let stopping = false
      const stop = (signal: NodeJS.Signals) => {
        if (stopping) return
        stopping = true
        logger.info({ signal }, 'shutting down')
        admin
          .close()
          .then(() => gate.close())
          .then(() => webhooks.stop())
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

  /**
   * The active vault as a source the admin socket can seal and unseal. It starts unsealed with the
   * key at hand (AEGIS_MASTER_KEY, a valid unsealed.key, or — never split — the config), and sealed
   * when the key is split and none is at hand: the gate then holds only what an unseal sends it.
   */
  #sealableVault(): SealableVault {
    const dataDir = this.dataDir()
    const vault = new SealableVault({ dataDir, name: this.activeVaultName() })
    let key: string
    try {
      key = this.masterKey()
    } catch (error) {
      if (readCustody(dataDir) === null) throw error
      return vault
    }
    const bytes = Buffer.from(key, 'utf8')
    try {
      vault.unsealWith(bytes)
    } catch (error) {
      if ((error as { code?: unknown }).code === 'invalid_master_key') {
        throw new CliError(invalidKeyMessage(key, vault.name), { cause: error })
      }
      throw error
    } finally {
      bytes.fill(0)
    }
    return vault
  }
}

/**
 * Who may use the admin socket: what `aegis vault unseal` / `vault seal` need (an admin once RBAC
 * is on), decided by @aegis/access for the caller's AEGIS_USER_TOKEN (sent as a Bearer token). The
 * user store is read on each call, so a user removed or demoted while the gate runs loses access.
 */
function adminAuthorizer(dataDir: string): AdminAuthorize {
  const file = accessFile(dataDir)
  const permission = commandPermission('vault:unseal') ?? 'vault:manage'
  return (token) => {
    const check = checkAccess({ file, token, permission })
    return check.ok ? { ok: true } : { ok: false, status: check.status, message: check.message }
  }
}
