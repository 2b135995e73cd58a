import type { AegisConfig } from '@aegis/config'
import { openLedger } from '@aegis/ledger'
import { type RunningMcp, startMcp } from '@aegis/mcp'
import type { AuditSink, CredentialSource } from '@aegis/proxy'
import { anonymousAccessFromConfig, type StopSignals } from '@aegis/proxy/internal'
import { Outbox } from '@aegis/webhooks'
import { Flags } from '@oclif/core'
import type { Logger } from 'pino'
import { AegisCommand } from '../../base-command.js'
import { bindFailureMessage } from '../../lib/bind-error.js'
import { openPgGateState } from '../../lib/gate-state-pg.js'
import { ledgerPath } from '../../lib/ledger-file.js'
import { createLogger } from '../../lib/logger.js'
import { assertPoliciesDir } from '../../lib/policies-dir.js'
import { describeSharedLimits, openSharedLimits } from '../../lib/rate-limits.js'
import { untilStopped } from '../../lib/until-stopped.js'
import { upstreamFlags, upstreamOverrides } from '../../lib/upstream-flags.js'

export default class McpServe extends AegisCommand<typeof McpServe> {
  static override summary =
    'Start the MCP server on the gate pipeline (stdio for MCP hosts, or streamable HTTP)'
  static override description =
    `Every tool call runs through the same checks as the gate and is recorded in the ledger with channel "mcp".
Over stdio the client's identity is AEGIS_AGENT_TOKEN (never a flag); stdout then carries only the MCP protocol and logs go to stderr.
Over HTTP (127.0.0.1, POST /mcp) every request needs "Authorization: Bearer <agent token>".`
  static override enableJsonFlag = false

  static override examples = [
    '$ AEGIS_AGENT_TOKEN=aegis_… <%= config.bin %> mcp serve',
    '<%= config.bin %> mcp serve --transport http --port 3300',
    '<%= config.bin %> mcp serve --upstream-ca ./internal-ca.pem --resolve api.internal.test:443:10.0.0.5:8443',
  ]

  static override flags = {
    transport: Flags.string({
      description: 'stdio (for MCP hosts) or http (streamable HTTP on 127.0.0.1); default mcp.transport',
      options: ['stdio', 'http'],
    }),
    port: Flags.integer({
      description: 'Port for --transport http; 0 picks a free port (default mcp.port, 3300)',
      min: 0,
      max: 65535,
    }),
    ...upstreamFlags,
  }

  async run(): Promise<void> {
    const { flags } = this
    const config = this.loadAegisConfig({
      mcp: { transport: flags.transport as 'stdio' | 'http' | undefined, port: flags.port },
      gate: { upstream: upstreamOverrides(flags) },
    })
    assertPoliciesDir(config.gate.policies_dir)
    await untilStopped(
      'the MCP server',
      (line) => this.logToStderr(line),
      (signals) => this.#serve(config, signals),
    )
  }

  async #serve(config: AegisConfig, signals: StopSignals): Promise<void> {
    const agentToken = process.env.AEGIS_AGENT_TOKEN?.trim() || null
    const logger = createLogger(config)
    const { vault, ledger, newerSchema, close } = await this.#state(config, logger)

    // Budgets shared with the gates when rate_limit.redis.url names a Redis.
    const rateLimitStore = await openSharedLimits(config, logger)
    let running: RunningMcp
    try {
      running = await startMcp({
        config,
        vault,
        ledger,
        logger,
        agentToken,
        version: this.config.version,
        rateLimitStore,
      })
    } catch (error) {
      await rateLimitStore?.close()
      await close()
      this.fail(bindFailureMessage(error, config.mcp.port, { flag: '--port', key: 'mcp.port' }))
    }
    const vaultName = this.activeVaultName()
    if (running.url !== null) this.log(`Aegis MCP server listening on ${running.url} (vault "${vaultName}")`)
    else logger.info({ vault: vaultName }, 'Aegis MCP server on stdio')
    // Where state and budgets live, as `aegis gate` says at start. On stdio, stdout is the
    // protocol: the lines go to the log (stderr).
    const say = (line: string) => (running.url !== null ? this.log(line) : logger.info(line))
    const pgUrl = config.storage.postgres.url
    if (pgUrl !== undefined) {
      const { pgWhere } = await import('../../lib/postgres.js')
      say(
        `State shared through PostgreSQL at ${pgWhere(pgUrl)} (changes from gates and CLIs arrive within a second)`,
      )
    }
    const shared = await describeSharedLimits(rateLimitStore, config)
    if (shared !== null) {
      say(shared.info)
      if (shared.warning !== null) this.warn(shared.warning)
    }
    const anonymous = anonymousAccessFromConfig(config)
    if (agentToken === null && running.transport === 'stdio') {
      if (anonymous === 'open') {
        this.warn(
          'Agent authentication is off and AEGIS_AGENT_TOKEN is not set: this client may use every credential',
        )
      } else if (anonymous === 'policy-refuses') {
        this.warn(
          'AEGIS_AGENT_TOKEN is not set and policies are enforced: every call of this client will be refused (agent_auth_required)',
        )
      } else if (anonymous === 'policy-records') {
        this.warn(
          'AEGIS_AGENT_TOKEN is not set and policies are in dry-run: calls are forwarded and recorded as agent_auth_required',
        )
      }
    }

    // As a gate does (gate-runtime.ts): a newer aegis migrating the store under it stops it.
    let newer: string | null = null
    let stopForSchema: () => void = () => {}
    const schemaChanged = new Promise<string>((resolve) => {
      stopForSchema = () => resolve('schema newer')
    })
    const schemaCheck = setInterval(() => {
      newerSchema().then(
        (found) => {
          if (found === null || newer !== null) return
          newer = found
          logger.error({ schema: found }, 'a newer aegis migrated the store under this MCP server: stopping')
          stopForSchema()
        },
        () => {},
      )
    }, 1000)
    schemaCheck.unref()
    const reason = await Promise.race([
      signals.started(),
      running.done.then(() => 'input closed'),
      schemaChanged,
    ])
    clearInterval(schemaCheck)
    logger.info({ reason }, 'shutting down')
    try {
      await running.close()
    } catch (error) {
      logger.error({ err: error instanceof Error ? error.message : String(error) }, 'shutdown failed')
    } finally {
      await rateLimitStore?.close()
      await close()
      logger.flush?.()
    }
    if (newer !== null) {
      this.fail(
        `A newer aegis migrated the store under this MCP server (${newer}): stopped; upgrade aegis, then start it again`,
      )
    }
    if (running.transport === 'http') this.log('Aegis MCP server stopped')
  }

  /**
   * What the MCP server reads and writes: on SQLite the vault file and the ledger with the outbox
   * (refusals on the MCP channel raise webhook events too; the gate's relay delivers them); on
   * PostgreSQL the same state a gate holds (credentials reloaded on every change, the shared ledger).
   */
  async #state(
    config: AegisConfig,
    logger: Logger,
  ): Promise<{
    vault: CredentialSource
    ledger: AuditSink
    /** What a newer aegis migrated under the server (see `GateState.newerSchema`), or null. */
    newerSchema(): Promise<string | null>
    close(): Promise<void>
  }> {
    const url = config.storage.postgres.url
    if (url !== undefined) {
      const state = await openPgGateState({
        dataDir: this.dataDir(),
        vaultName: this.activeVaultName(),
        masterKey: () => this.masterKey(),
        url,
        config,
        logger,
      })
      // No admin socket to be unsealed through: a sealed deployment (aegis vault seal), or a split
      // key not at hand, is a refusal to start. Sealed while it runs, it refuses every call until
      // restarted.
      if (state.vault.isSealed()) {
        await state.close()
        this.fail(
          'The vault is sealed (aegis vault seal, or a split key not at hand): aegis mcp serve cannot be unsealed while it runs; unseal (aegis vault unseal), then start it again',
        )
      }
      try {
        // The MCP snapshot follows the source's change token (polled every 250 ms).
        await state.watch(() => {})
      } catch (error) {
        await state.close()
        throw error
      }
      return {
        vault: state.credentials,
        ledger: state.audit,
        newerSchema: () => state.newerSchema(),
        close: () => state.close(),
      }
    }
    const vault = await this.openActiveVault()
    const ledger = openLedger({
      file: ledgerPath(this.dataDir()),
      // Commits in a writer thread, off the event loop that serves the tool calls.
      writer: 'worker',
      checkpoint: 'background',
      extensions: [new Outbox()],
    })
    return {
      vault,
      ledger,
      newerSchema: async () => vault.newerSchema() ?? ledger.newerSchema(),
      close: async () => {
        try {
          await ledger.close()
        } finally {
          vault.close()
        }
      },
    }
  }
}
