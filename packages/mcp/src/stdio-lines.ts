import type { Readable, Writable } from 'node:stream'
import { type Refusal, refuse } from '@aegis/guard'
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js'
import { ErrorCode, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js'
import { isJsonRpcMessage, readableId, rpcError } from './json-rpc.js'

const UTF8 = new TextDecoder('utf-8', { fatal: true })
const NEWLINE = 0x0a

/**
 * MCP's stdio transport — one JSON-RPC message per line — that answers every line it cannot hand
 * to the server, where the SDK's dropped it without a word (the client waited for ever) or closed
 * the whole connection:
 *
 * - a line over `maxLineBytes`: discarded as it arrives (memory stays bounded, the SDK's buffer
 *   copied itself whole per chunk and closed the connection at 10 MiB), answered `-32600`, and the
 *   next line is read as usual;
 * - a line that is not UTF-8 (`-32700`: never decoded with replacement characters, which would
 *   change what is forwarded), not JSON (`-32700`), or not a JSON-RPC message (`-32600`);
 * - a batch: MCP has none over stdio (and none at all since 2025-06-18), so each request in it is
 *   answered `-32600`, in one array (JSON-RPC 2.0 §6), and nothing of it runs.
 *
 * Blank lines are skipped. Answers name nothing of the line but a request's id. Each such line is
 * also handed to `refused` as the HTTP endpoint records a POST it cannot take (`body_too_large`,
 * `bad_request`), so that the ledger has a row for it.
 */
export class StdioLines implements Transport {
  onclose?: () => void
  onerror?: (error: Error) => void
  onmessage?: (message: JSONRPCMessage) => void
  #parts: Buffer[] = []
  #size = 0
  /** The current line passed the limit: the rest of it is dropped until its end. */
  #overLimit = false
  #started = false

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    private readonly maxLineBytes: number,
    private readonly refused: (refusal: Refusal) => void = () => undefined,
  ) {}

  async start(): Promise<void> {
    if (this.#started) throw new Error('StdioLines already started')
    this.#started = true
    this.input.on('data', this.#onData)
    this.input.on('error', this.#onError)
  }

  send(message: JSONRPCMessage): Promise<void> {
    return this.#write(message)
  }

  async close(): Promise<void> {
    this.input.off('data', this.#onData)
    this.input.off('error', this.#onError)
    if (this.input.listenerCount('data') === 0) this.input.pause()
    this.#parts = []
    this.#size = 0
    this.onclose?.()
  }

  readonly #onError = (error: Error) => {
    this.onerror?.(error)
  }

  readonly #onData = (chunk: Buffer | string) => {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk
    let from = 0
    for (let end = bytes.indexOf(NEWLINE); end !== -1; end = bytes.indexOf(NEWLINE, from)) {
      this.#take(bytes.subarray(from, end))
      from = end + 1
      this.#endLine()
    }
    this.#take(bytes.subarray(from))
  }

  #take(part: Buffer): void {
    if (this.#overLimit || part.length === 0) return
    if (this.#size + part.length > this.maxLineBytes) {
      this.#overLimit = true
      this.#parts = []
      this.#size = 0
      return
    }
    this.#parts.push(part)
    this.#size += part.length
  }

  #endLine(): void {
    let refused: Refused | null
    if (this.#overLimit) {
      this.#overLimit = false
      const why = `a message is at most ${this.maxLineBytes} bytes`
      refused = {
        answer: rpcError(ErrorCode.InvalidRequest, `Invalid Request: ${why}`),
        refusal: refuse('body_too_large', `A stdio line over the limit: ${why}`),
      }
    } else {
      const line =
        this.#parts.length === 1 ? (this.#parts[0] as Buffer) : Buffer.concat(this.#parts, this.#size)
      this.#parts = []
      this.#size = 0
      refused = this.#read(line)
    }
    if (refused === null) return
    this.refused(refused.refusal)
    if (refused.answer !== null) this.#answer(refused.answer)
  }

  /** Hands the line's message to the server, or says why not (null: handed over, or a blank line). */
  #read(bytes: Buffer): Refused | null {
    let text: string
    try {
      text = UTF8.decode(bytes)
    } catch {
      return malformed(rpcError(ErrorCode.ParseError, 'Parse error: the message is not UTF-8'))
    }
    if (text.trim() === '') return null
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      return malformed(rpcError(ErrorCode.ParseError, 'Parse error: the message is not JSON'))
    }
    if (Array.isArray(value)) return batchRefused(value)
    if (!isJsonRpcMessage(value)) {
      const why = 'Invalid Request: not a JSON-RPC 2.0 message'
      return malformed(rpcError(ErrorCode.InvalidRequest, why, readableId(value)))
    }
    try {
      this.onmessage?.(value as JSONRPCMessage)
    } catch (error) {
      // Thrown out of a 'data' listener it would end the process.
      this.onerror?.(error instanceof Error ? error : new Error(String(error)))
    }
    return null
  }

  #answer(answer: unknown): void {
    this.#write(answer).catch((error: unknown) => {
      this.onerror?.(error instanceof Error ? error : new Error(String(error)))
    })
  }

  #write(message: unknown): Promise<void> {
    return new Promise((resolve) => {
      if (this.output.write(`${JSON.stringify(message)}\n`)) resolve()
      else this.output.once('drain', resolve)
    })
  }
}

/** A line not handed to the server: what the client is answered (null: nothing), what is recorded. */
interface Refused {
  answer: unknown
  refusal: Refusal
}

function malformed(answer: ReturnType<typeof rpcError>): Refused {
  return { answer, refusal: refuse('bad_request', `A stdio line was refused: ${answer.error.message}`) }
}

/**
 * A batch's answer: each request in it refused (nothing of it runs), in one array; notifications
 * and responses are answered by nothing, as JSON-RPC says — a batch of only those, by nothing at all.
 */
function batchRefused(messages: unknown[]): Refused {
  if (messages.length === 0)
    return malformed(rpcError(ErrorCode.InvalidRequest, 'Invalid Request: an empty batch'))
  const why = 'Invalid Request: batches are not taken over stdio; send each message on a line of its own'
  const answers = messages
    .filter((m) => !isJsonRpcMessage(m) || (readableId(m) !== null && isRequestShaped(m)))
    .map((m) => rpcError(ErrorCode.InvalidRequest, why, readableId(m)))
  return {
    answer: answers.length > 0 ? answers : null,
    refusal: refuse('bad_request', `A stdio line was refused: ${why}`),
  }
}

function isRequestShaped(message: unknown): boolean {
  return typeof message === 'object' && message !== null && 'method' in message
}
