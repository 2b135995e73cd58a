import { Transform, type TransformCallback } from 'node:stream'

/** Raised inside the request body stream when it grows past the limit. */
export class BodyTooLargeError extends Error {
  readonly limit: number
  constructor(limit: number) {
    super(`Request body is over the limit of ${limit} bytes`)
    this.name = 'BodyTooLargeError'
    this.limit = limit
  }
}

/**
 * Chunks under this size are joined before they go upstream. A body in 1-byte chunks would
 * otherwise be a million queued writes (and a million re-framed upstream chunks) per MiB.
 */
const SMALL_CHUNK = 4096
/** Joined small chunks are sent once this many bytes are held, or when the current read is done. */
const JOINED = 16 * 1024

/**
 * Counts request body bytes as they stream to the upstream and fails the stream as soon as the
 * count passes `limit`, so an oversized chunked body is cut off without being read to its end.
 * Small chunks are joined into one buffer (sent when full, or once the socket read that delivered
 * them has been parsed), so memory per request stays proportional to bytes, not to chunks.
 */
export class ByteLimit extends Transform {
  /** Bytes read from the client. */
  bytes = 0
  /** Bytes handed on towards the upstream (not those held, nor the chunk that went over the limit). */
  passed = 0
  readonly #limit: number
  #held: Buffer | null = null
  #heldSize = 0
  #flushScheduled: NodeJS.Immediate | null = null

  constructor(limit: number) {
    super()
    this.#limit = limit
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length
    if (this.bytes > this.#limit) {
      callback(new BodyTooLargeError(this.#limit))
      return
    }
    if (chunk.length >= SMALL_CHUNK) {
      this.#sendHeld()
      this.passed += chunk.length
      callback(null, chunk)
      return
    }
    if (this.#heldSize + chunk.length > JOINED) this.#sendHeld()
    this.#held ??= Buffer.allocUnsafe(JOINED)
    this.#held.set(chunk, this.#heldSize)
    this.#heldSize += chunk.length
    // Everything one socket read delivered arrives before the next turn of the event loop.
    this.#flushScheduled ??= setImmediate(() => {
      this.#flushScheduled = null
      this.#sendHeld()
    })
    callback()
  }

  override _flush(callback: TransformCallback): void {
    this.#cancelFlush()
    this.#sendHeld()
    callback()
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#cancelFlush()
    this.#held = null
    callback(error)
  }

  #cancelFlush(): void {
    if (this.#flushScheduled !== null) clearImmediate(this.#flushScheduled)
    this.#flushScheduled = null
  }

  #sendHeld(): void {
    const held = this.#held
    if (held === null || this.#heldSize === 0) return
    this.passed += this.#heldSize
    this.push(held.subarray(0, this.#heldSize))
    this.#held = null
    this.#heldSize = 0
  }
}
