import { randomUUID } from 'node:crypto'
import type { Readable, Writable } from 'node:stream'
import type { Refusal } from '@aegis/guard'
import type { GateRequest } from '@aegis/proxy'
import type { Drain } from '@aegis/proxy/internal'
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { DEFAULT_MAX_MESSAGE_BYTES } from './json-rpc.js'
import { StdioLines } from './stdio-lines.js'

export interface StdioStreams {
  input: Readable
  output: Writable
}

/**
 * How long calls still running when the input ends may take to finish and be answered. Under the
 * 2 s an MCP client gives a server between closing its stdin and a SIGTERM (the SDK's stdio client
 * does): a client piping requests in and reading the answers gets them; one that exited does not
 * keep an upstream request running (and billing) after it.
 */
export const INPUT_END_GRACE_MS = 1000

/**
 * Serves `server` over stdio (newline-delimited JSON-RPC, `StdioLines`: a line is at most
 * `DEFAULT_MAX_MESSAGE_BYTES`, the HTTP endpoint's message limit): `process.stdin`/`process.stdout`
 * unless other streams are given. Stdout then belongs to the protocol: log to stderr only.
 *
 * The end of the input is the client's shutdown (MCP stdio: it closes our stdin, then signals):
 * the calls still running may finish and be answered for `INPUT_END_GRACE_MS` (when `drain` tracks
 * them; at once without), then the transport closes and every call left is cancelled — abandoned.
 * A broken output (the client's read end closed: EPIPE) is the client gone: closed at once, never
 * an unhandled error. The SDK's transport alone notices neither.
 *
 * `refused` is told of every line that is not handed to the server (`StdioLines`), to record it.
 */
export async function serveStdio(
  server: McpServer,
  streams?: StdioStreams,
  drain?: Drain,
  refused?: (refusal: Refusal) => void,
): Promise<StdioLines> {
  const input = streams?.input ?? process.stdin
  const output = streams?.output ?? process.stdout
  const transport = new StdioLines(input, output, DEFAULT_MAX_MESSAGE_BYTES, refused)
  await server.connect(transport)
  let closing = false
  const close = () => {
    if (closing) return
    closing = true
    void server.close().catch(() => undefined)
  }
  const inputEnded = () => {
    input.off('end', inputEnded)
    input.off('close', inputEnded)
    if (drain === undefined) close()
    else void drain.close(INPUT_END_GRACE_MS).then(close, close)
  }
  input.once('end', inputEnded)
  input.once('close', inputEnded)
  output.on('error', close)
  return transport
}

/**
 * What a stdio line refused before it became a message is recorded as (`GateEngine.reject`, not
 * routed): channel `mcp`, the server's agent, no method or path — a line has neither.
 */
export function stdioLineRequest(agentToken: string | null): GateRequest {
  return {
    id: randomUUID(),
    channel: 'mcp',
    receivedAt: Date.now(),
    method: 'UNKNOWN',
    target: '',
    rawHeaders: [],
    agentToken,
    targetHost: null,
    contentLength: null,
    body: null,
    clientAddress: null,
  }
}
