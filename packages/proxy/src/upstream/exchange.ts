import { Readable } from 'node:stream'
import type { Dispatcher } from 'undici'

/** The upstream's status line and (lower-cased, parsed) headers. */
export interface UpstreamHead {
  status: number
  headers: Record<string, string | string[] | undefined>
}

/**
 * The response body of one exchange, read one of two ways: whole (`readParts`, no stream machinery
 * at all — the common small JSON answer) or as a Readable with backpressure (`stream`).
 */
export interface UpstreamBody {
  /** Resolves with the whole body, in the parts it arrived in, once the upstream finished it. */
  readParts(): Promise<Buffer[]>
  /** The whole body at once if the upstream already finished it (taken, as `readParts`), else null. */
  takeEnded(): Buffer[] | null
  /**
   * The body as a stream; destroying it aborts the upstream request. With a `filter`, every chunk
   * goes through it on the way in (and what it holds back comes out at the end): a redactor, with no
   * Transform stream between the socket and the reader.
   */
  stream(filter?: ChunkFilter): Readable
  /** Stops reading: aborts the upstream request if it is still running. */
  destroy(error?: Error): void
}

/** Rewrites a body chunk by chunk (e.g. a `Redactor` from @aegis/inspect). */
export interface ChunkFilter {
  /** The output that is final so far; may be empty while the filter holds bytes back. */
  push(chunk: Uint8Array): Buffer
  /** Whatever is still held back, once the body ended. */
  end(): Buffer
}

/** undici's code for a message whose body length differs from its Content-Length. */
const LENGTH_MISMATCH = 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH'

/** Bytes held before anyone reads them; past this the upstream socket is paused. */
const HOLD_LIMIT = 64 * 1024

interface HeadSettler {
  resolve: (head: UpstreamHead) => void
  reject: (error: Error) => void
}

/** Raised when the total deadline passes before the upstream's headers are complete. */
export class UpstreamDeadlineError extends Error {
  constructor(ms: number) {
    super(`No response headers within ${ms} ms`)
    this.name = 'UpstreamDeadlineError'
  }
}

/** Raised when the upstream's body pauses (with nobody holding it back) longer than the deadline. */
export class UpstreamBodyTimeoutError extends Error {
  constructor(ms: number) {
    super(`The response body stalled for ${ms} ms`)
    this.name = 'UpstreamBodyTimeoutError'
  }
}

function onTimer(exchange: UpstreamExchange): void {
  exchange.expire()
}

/** Raised into an exchange whose reader went away before the body ended. */
export class ExchangeAbortedError extends Error {
  constructor() {
    super('The response was abandoned before it ended')
    this.name = 'ExchangeAbortedError'
  }
}

/**
 * One request/response with an upstream, as an undici dispatch handler. Compared with
 * `Dispatcher.request` it makes no AbortController, AsyncResource or Readable per request: `head`
 * settles at the response headers, and the body is buffered or streamed as its reader asks.
 * `fail()` settles a request that has no response yet and aborts it — at once when it is on a
 * socket, or as soon as undici hands it one.
 *
 * One timer per exchange keeps both deadlines (undici's own are switched off: they allocate a timer
 * object per request that outlives it): until the headers, the total deadline; then the longest
 * pause between body chunks, which does not run while the reader holds the body back.
 */
export class UpstreamExchange implements Dispatcher.DispatchHandler, UpstreamBody {
  readonly head: Promise<UpstreamHead>
  #settleHead: HeadSettler | null
  #controller: Dispatcher.DispatchController | null = null
  /** Why we gave up on this exchange (deadline, reader gone), if we did. */
  #failure: Error | null = null
  readonly #requestBody: Readable | null
  readonly #timeoutMs: number
  readonly #timer: NodeJS.Timeout
  /** We paused the upstream because nobody is reading. */
  #paused = false
  /** The final status (0 until the head arrived). */
  #status = 0

  #chunks: Buffer[] = []
  #held = 0
  #ended = false
  #error: Error | null = null
  #reader: { resolve: (parts: Buffer[]) => void; reject: (error: Error) => void } | null = null
  #stream: Readable | null = null
  #filter: ChunkFilter | null = null

  constructor(requestBody: Readable | null, timeoutMs: number) {
    this.#requestBody = requestBody
    this.#timeoutMs = timeoutMs
    this.#timer = setTimeout(onTimer, timeoutMs, this)
    let settle: HeadSettler | null = null
    this.head = new Promise<UpstreamHead>((resolve, reject) => {
      settle = { resolve, reject }
    })
    this.#settleHead = settle
  }

  /** @internal The timer fired. */
  expire(): void {
    if (this.#settleHead !== null) {
      this.fail(new UpstreamDeadlineError(this.#timeoutMs))
    } else if (this.#paused) {
      this.#timer.refresh() // held back by a slow reader, not stalled upstream
    } else {
      this.fail(new UpstreamBodyTimeoutError(this.#timeoutMs))
    }
  }

  /** Gives up on the exchange: rejects a pending `head` with `error` and aborts the request. */
  fail(error: Error): void {
    if (this.#failure !== null) return
    this.#failure = error
    clearTimeout(this.#timer)
    this.#rejectHead(error)
    if (this.#controller !== null && !this.#ended && this.#error === null) this.#controller.abort(error)
  }

  // --- undici handler --------------------------------------------------------------------------

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller
    if (this.#failure !== null) controller.abort(this.#failure)
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    if (statusCode < 200) return // 1xx: the final response follows
    const settle = this.#settleHead
    if (settle === null) return
    this.#settleHead = null
    this.#status = statusCode
    this.#timer.refresh() // from here on: the longest pause in the body
    settle.resolve({ status: statusCode, headers })
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#timer.refresh()
    const stream = this.#stream
    if (stream !== null) {
      if (!this.#deliver(stream, chunk)) this.#pause(controller)
      return
    }
    this.#chunks.push(chunk)
    this.#held += chunk.length
    if (this.#reader === null && this.#held > HOLD_LIMIT) this.#pause(controller)
  }

  onResponseEnd(): void {
    clearTimeout(this.#timer)
    this.#ended = true
    if (this.#stream !== null) {
      this.#finishStream(this.#stream)
      return
    }
    const reader = this.#reader
    if (reader !== null) {
      this.#reader = null
      reader.resolve(this.#take())
    }
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.#status === 204 || this.#status === 304) {
      if ((error as { code?: unknown }).code === LENGTH_MISMATCH) {
        // A 204 or 304 has no body whatever its Content-Length says (a 304's describes the
        // representation): undici finished the message, then refused the length. It is complete.
        this.onResponseEnd()
        return
      }
    }
    clearTimeout(this.#timer)
    this.#error = error
    this.#rejectHead(error)
    const reader = this.#reader
    if (reader !== null) {
      this.#reader = null
      reader.reject(error)
    }
    this.#stream?.destroy(error)
    this.#chunks = []
    if (this.#requestBody !== null && !this.#requestBody.destroyed) this.#requestBody.destroy(error)
  }

  // --- the body ----------------------------------------------------------------------------------

  readParts(): Promise<Buffer[]> {
    if (this.#error !== null) return Promise.reject(this.#error)
    if (this.#ended) return Promise.resolve(this.#take())
    return new Promise<Buffer[]>((resolve, reject) => {
      this.#reader = { resolve, reject }
      this.#resume()
    })
  }

  takeEnded(): Buffer[] | null {
    return this.#ended && this.#error === null && this.#stream === null ? this.#take() : null
  }

  stream(filter?: ChunkFilter): Readable {
    if (this.#stream !== null) return this.#stream
    this.#filter = filter ?? null
    const stream = new Readable({
      read: () => this.#resume(),
      destroy: (error, callback) => {
        this.#abandon(error)
        callback(error)
      },
    })
    this.#stream = stream
    for (const chunk of this.#chunks) this.#deliver(stream, chunk)
    this.#chunks = []
    if (this.#error !== null) stream.destroy(this.#error)
    else if (this.#ended) this.#finishStream(stream)
    return stream
  }

  /** Pushes a chunk (through the filter); false when the reader wants no more for now. */
  #deliver(stream: Readable, chunk: Buffer): boolean {
    const out = this.#filter === null ? chunk : this.#filter.push(chunk)
    return out.length === 0 ? true : stream.push(out)
  }

  #finishStream(stream: Readable): void {
    if (this.#filter !== null) {
      const tail = this.#filter.end()
      if (tail.length > 0) stream.push(tail)
    }
    stream.push(null)
  }

  destroy(error?: Error): void {
    if (this.#stream !== null) {
      this.#stream.destroy(error)
      return
    }
    this.#abandon(error)
    this.#chunks = []
  }

  /** The reader is gone: abort the upstream unless its answer already ended. */
  #abandon(error: Error | null | undefined): void {
    if (!this.#ended && this.#error === null) this.fail(error ?? new ExchangeAbortedError())
  }

  #rejectHead(error: Error): void {
    const settle = this.#settleHead
    if (settle === null) return
    this.#settleHead = null
    settle.reject(error)
  }

  #pause(controller: Dispatcher.DispatchController): void {
    this.#paused = true
    controller.pause()
  }

  #resume(): void {
    if (!this.#paused) return
    this.#paused = false
    this.#timer.refresh()
    this.#controller?.resume()
  }

  #take(): Buffer[] {
    const chunks = this.#chunks
    this.#chunks = []
    return chunks
  }
}
