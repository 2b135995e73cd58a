import { DEFAULT_CONNECTION_LIMITS, type GateEngine } from '@aegis/proxy'
import { Drain } from '@aegis/proxy/internal'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js'
import { DEFAULT_MAX_RESPONSE_BYTES } from './response.js'
import { ScreenedTransport } from './screen.js'
import { HEALTH_TOOL, health, healthOutput } from './tools/health.js'
import { LIST_SERVICES_TOOL, listServices, listServicesOutput } from './tools/list-services.js'
import {
  PROXY_REQUEST_TOOL,
  proxyRequest,
  proxyRequestInput,
  proxyRequestOutput,
} from './tools/proxy-request.js'
import { MCP_PACKAGE_VERSION } from './version.js'

export interface McpServerOptions {
  /** The one request pipeline (from `createPipeline`), shared with the HTTP gate. */
  engine: GateEngine
  /**
   * Who the MCP client is: the agent token from the server's own configuration
   * (`AEGIS_AGENT_TOKEN` for stdio, the bearer token for HTTP). Never taken from tool arguments.
   */
  agentToken: string | null
  /** Largest upstream response body returned to the client, bytes. Default 1 MiB. */
  maxResponseBytes?: number
  /**
   * Largest request header block a tool call may send, bytes — pass the HTTP gate's limit
   * (`GateOptions.limits.maxHeaderSize`, `gate.max_header_size`) so both channels refuse the same
   * headers. Default 16384, the gate's default.
   */
  maxHeaderSize?: number
  /** Reported in the handshake and by `aegis_health`. Default: this package's version. */
  version?: string
}

const INSTRUCTIONS =
  'Aegis makes authenticated API calls for you without ever showing you the credentials. ' +
  'Call aegis_list_services to see which services you may use, then aegis_proxy_request with the ' +
  'service and the upstream path. Never put API keys or tokens in headers or bodies: Aegis injects them.'

/** The tools every Aegis MCP server has, and no other. */
const TOOLS: readonly string[] = [PROXY_REQUEST_TOOL, LIST_SERVICES_TOOL, HEALTH_TOOL]

/**
 * An `McpServer` whose connections go through `ScreenedTransport`: the requests the SDK would
 * answer by repeating the client's input (an unknown tool's name, its validator's dump) — or
 * wrongly (`constructor` as a "disabled" tool) — are answered before it sees them.
 */
class ScreenedMcpServer extends McpServer {
  override connect(transport: Transport): Promise<void> {
    return super.connect(new ScreenedTransport(transport, TOOLS))
  }
}

/** Builds an MCP server whose tools run on the given engine. */
export function createMcpServer(options: McpServerOptions): McpServer {
  return buildMcpServer(options, new Drain())
}

/** `createMcpServer` with a shared drain, so a transport can stop taking calls and wait for running ones. */
export function buildMcpServer(options: McpServerOptions, drain: Drain): McpServer {
  const { engine, agentToken } = options
  const version = options.version ?? MCP_PACKAGE_VERSION
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES
  const maxHeaderSize = options.maxHeaderSize ?? DEFAULT_CONNECTION_LIMITS.maxHeaderSize
  const server = new ScreenedMcpServer({ name: 'aegis', version }, { instructions: INSTRUCTIONS })

  server.registerTool(
    PROXY_REQUEST_TOOL,
    {
      title: 'Authenticated API request',
      description:
        'Make an API call through Aegis: give the service and the upstream path; Aegis checks it, ' +
        'injects the credential, records it and returns the upstream status, headers and body.',
      inputSchema: proxyRequestInput,
      outputSchema: proxyRequestOutput,
      annotations: { openWorldHint: true, destructiveHint: true, idempotentHint: false },
    },
    (args, extra) =>
      proxyRequest({ engine, agentToken, maxResponseBytes, maxHeaderSize, drain }, args, extra.signal),
  )

  server.registerTool(
    LIST_SERVICES_TOOL,
    {
      title: 'List services',
      description:
        'The services you may call through aegis_proxy_request: names, domains and allowed scopes. Never secrets.',
      outputSchema: listServicesOutput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    () => listServices(engine, agentToken),
  )

  server.registerTool(
    HEALTH_TOOL,
    {
      title: 'Aegis health',
      description:
        'Check that Aegis can serve requests now, and how many services you may use; when it cannot (sealed, audit ledger unavailable, shutting down) the result is an error naming why.',
      outputSchema: healthOutput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    () => health(engine, agentToken, version, drain.closing),
  )

  return server
}
