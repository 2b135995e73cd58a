import type { Readable } from 'node:stream'

/** The first growth step past a single chunk: one socket read's worth, so typical bodies copy once. */
const FIRST_CAPACITY = 16 * 1024

/**
 * Bytes appended into one buffer that doubles as it fills, up to `limit`. Every chunk is copied and
 * then dropped: a 1 MiB body in 1-byte chunks keeps 1 MiB, not a million Buffer objects (about
 * 400 MiB when they were kept in an array). A body that arrives in one chunk is kept as it is.
 */
export class ByteCollector {
  readonly #limit: number
  #single: Buffer | null = null
  #buffer: Buffer | null = null
  #size = 0

  constructor(limit: number) {
    this.#limit = limit
  }

  get size(): number {
    return this.#size
  }

  /** Appends `chunk`; false (nothing appended) when it would take the total past the limit. */
  append(chunk: Uint8Array): boolean {
    const next = this.#size + chunk.length
    if (next > this.#limit) return false
    if (chunk.length === 0) return true
    if (this.#size === 0) {
      this.#single = Buffer.isBuffer(chunk)
        ? chunk
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length)
      this.#size = next
      return true
    }
    let buffer = this.#buffer
    if (buffer === null || next > buffer.length) {
      const grown = Buffer.allocUnsafe(
        Math.min(this.#limit, Math.max(next, FIRST_CAPACITY, (buffer?.length ?? 0) * 2)),
      )
      if (buffer !== null) buffer.copy(grown, 0, 0, this.#size)
      else this.#single?.copy(grown)
      this.#single = null
      buffer = grown
      this.#buffer = grown
    }
    buffer.set(chunk, this.#size)
    this.#size = next
    return true
  }

  /** The bytes so far (a view, no copy). */
  bytes(): Buffer {
    if (this.#buffer !== null) return this.#buffer.subarray(0, this.#size)
    return this.#single ?? Buffer.alloc(0)
  }
}

/**
 * Reads a whole request body; rejects when the stream fails or closes first. Past `limit` bytes it
 * stops reading — without destroying the stream,
 * so the caller can still answer 413 on the connection — and resolves null.
 */
export function collectBody(body: Readable, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const collector = new ByteCollector(limit)
    const cleanup = () => {
      body.off('data', onData)
      body.off('end', onEnd)
      body.off('error', onError)
      body.off('close', onClose)
    }
    const onData = (chunk: Buffer) => {
      if (collector.append(chunk)) return
      cleanup()
      body.pause()
      resolve(null)
    }
    const onEnd = () => {
      cleanup()
      resolve(collector.bytes())
    }
    const onError = (error: Error) => {
      cleanup()
      reject(error)
    }
    // A stream destroyed without an error ends with 'close' alone.
    const onClose = () => onError(new Error('The body stream closed before it ended'))
    body.on('data', onData)
    body.once('end', onEnd)
    body.once('error', onError)
    body.once('close', onClose)
  })
}
