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
 *
 * The end of the input is the client gone (it exited, or closed our stdin to shut us down): the
 * transport closes then, and with it every call still running is cancelled (abandoned: nobody is
 * left to read its answer). The SDK's transport alone never notices the end of its input.
 */
export async function serveStdio(server: McpServer, streams?: StdioStreams): Promise<StdioServerTransport> {
  const input = streams?.input ?? process.stdin
  const transport =
    streams === undefined
      ? new StdioServerTransport()
      : new StdioServerTransport(streams.input, streams.output)
  await server.connect(transport)
  const clientGone = () => {
    input.off('end', clientGone)
    input.off('close', clientGone)
    void server.close().catch(() => undefined)
  }
  input.once('end', clientGone)
  input.once('close', clientGone)
  return transport
}
