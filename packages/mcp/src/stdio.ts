import type { Readable, Writable } from 'node:stream'
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js'

export interface StdioStreams {
  input: Readable
  output: Writable
}

/**
 * Serves `server` over stdio (newline-delimited JSON-RPC): `process.stdin`/`process.stdout` unless
 * other streams are given. Stdout then belongs to the protocol: log to stderr only.
 */
export async function serveStdio(server: McpServer, streams?: StdioStreams): Promise<StdioServerTransport> {
  const transport =
    streams === undefined
      ? new StdioServerTransport()
      : new StdioServerTransport(streams.input, streams.output)
  await server.connect(transport)
  return transport
}
