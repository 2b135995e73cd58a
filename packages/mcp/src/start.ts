import type { RateLimitStore, Refusal } from '@aegis/guard'
import {
  type AuditSink,
  ConfigFileError,
  type CredentialSource,
  createPipeline,
  type Logger,
  type PipelineConfig,
  type PipelineOptions,
  pipelineOptionsFromConfig,
  type RequestObserver,
} from '@aegis/proxy'
import { connectionLimitsFromConfig, Drain } from '@aegis/proxy/internal'
import { createMcpHttpServer } from './http.js'
import { buildMcpServer } from './server.js'
import { type StdioStreams, serveStdio, stdioLineRequest } from './stdio.js'

/** The configuration keys the MCP server reads: the gate's pipeline settings and `mcp.*`. */
export interface McpConfig extends PipelineConfig {
  gate: PipelineConfig['gate'] & { shutdown_timeout: number }
  mcp: { transport: 'stdio' | 'http'; port: number }
}

export interface StartMcpOptions {
  /** `AegisConfig` from `@aegis/config` fits; only these keys are read. */
  config: McpConfig
  /** The open vault: credentials are decrypted into memory and reloaded when it changes. */
  vault: CredentialSource
  /** The open ledger: every tool call is recorded before anything is forwarded. */
  ledger: AuditSink
  /** Must not write to stdout when serving stdio. */
  logger: Logger
  /** The stdio client's identity (the app reads `AEGIS_AGENT_TOKEN`). HTTP clients send their own. */
  agentToken: string | null
  /** Overrides `config.mcp.transport`. */
  transport?: 'stdio' | 'http'
  /** HTTP only: interface (default 127.0.0.1) and port (default `config.mcp.port`; 0 = free port). */
  host?: string
  port?: number
  /** HTTP only: browser origins allowed besides the server's own. */
  allowedOrigins?: readonly string[]
  /** Stdio only: streams to use instead of `process.stdin` / `process.stdout`. */
  stdio?: StdioStreams
  maxResponseBytes?: number
  version?: string
  /**
   * Counts every tool call's outcome (`@aegis/telemetry`), from the same pipeline outcomes the gate
   * counts. The MCP server serves no metrics endpoint of its own (stdio has no HTTP at all).
   */
  observer?: RequestObserver
  /**
   * Where the budgets live when several servers share them (`@aegis/redis-rate-limit`, opened by
   * the host from `rate_limit.redis`); `rate_limit.failure_mode` applies. Default: in this process.
   */
  rateLimitStore?: RateLimitStore
}

export interface RunningMcp {
  transport: 'stdio' | 'http'
  /** The HTTP endpoint (`http://127.0.0.1:3300/mcp`), or null for stdio. */
  url: string | null
  /** Resolves when the stdio client has gone (its input ended); for HTTP, only after `close`. */
  readonly done: Promise<void>
  /** Refuses new calls, lets running ones finish (`gate.shutdown_timeout`), stops the pipeline. */
  close(): Promise<void>
}

/** Thrown for a setup problem the user can fix (an unreadable CA file); the message says which. */
export class McpStartError extends Error {
  override readonly name = 'McpStartError'
}

/** The pipeline settings the gate uses, from the same configuration keys. */
export function pipelineOptions(
  config: McpConfig,
  deps: { vault: CredentialSource; ledger: AuditSink; logger: Logger },
): PipelineOptions {
  try {
    return pipelineOptionsFromConfig(config, {
      credentials: deps.vault,
      audit: deps.ledger,
      logger: deps.logger,
    })
  } catch (error) {
    if (error instanceof ConfigFileError) throw new McpStartError(error.message)
    throw error
  }
}

/**
 * Starts the MCP server on the one request pipeline, over stdio or streamable HTTP, with the
 * gate's settings. Both `aegis mcp serve` and the standalone `aegis-mcp-server` start here.
 */
export async function startMcp(options: StartMcpOptions): Promise<RunningMcp> {
  const { config, logger } = options
  const transport = options.transport ?? config.mcp.transport
  const shutdownTimeout = config.gate.shutdown_timeout
  const base = pipelineOptions(config, options)
  const pipeline = createPipeline({
    ...base,
    observer: options.observer,
    rateLimits: { ...base.rateLimits, store: options.rateLimitStore },
  })
  pipeline.start()
  let stopped = false
  let markDone: () => void = () => undefined
  const done = new Promise<void>((resolve) => {
    markDone = resolve
  })

  try {
    if (transport === 'http') {
      const http = createMcpHttpServer({
        engine: pipeline.engine,
        logger,
        host: options.host,
        port: options.port ?? config.mcp.port,
        allowedOrigins: options.allowedOrigins,
        allowedHosts: config.gate.allowed_hosts,
        connections: connectionLimitsFromConfig(config),
        maxResponseBytes: options.maxResponseBytes,
        version: options.version,
      })
      const address = await http.listen()
      await options.ledger.system('mcp_start', `listening on ${address.url}`)
      return {
        transport,
        url: address.url,
        done,
        close: async () => {
          if (stopped) return
          stopped = true
          await http.close(shutdownTimeout)
          await pipeline.close()
          await options.ledger.system('mcp_stop', 'stopped')
          markDone()
        },
      }
    }

    const drain = new Drain()
    const server = buildMcpServer(
      {
        engine: pipeline.engine,
        agentToken: options.agentToken,
        maxResponseBytes: options.maxResponseBytes,
        maxHeaderSize: connectionLimitsFromConfig(config).maxHeaderSize,
        version: options.version,
      },
      drain,
    )
    const input = options.stdio?.input ?? process.stdin
    input.once('end', markDone)
    input.once('close', markDone)
    // A line the server cannot take is recorded as the HTTP endpoint records such a POST.
    const refused = (refusal: Refusal) => {
      const request = stdioLineRequest(options.agentToken)
      void pipeline.engine.reject(request, refusal, { routed: false }).catch(() => undefined)
    }
    await serveStdio(server, options.stdio, drain, refused)
    await options.ledger.system('mcp_start', 'serving stdio')
    return {
      transport,
      url: null,
      done,
      close: async () => {
        if (stopped) return
        stopped = true
        await drain.close(shutdownTimeout)
        await server.close()
        await pipeline.close()
        await options.ledger.system('mcp_stop', 'stopped')
        markDone()
      },
    }
  } catch (error) {
    await pipeline.close()
    throw error
  }
}
