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
 * Counts request body bytes as they stream to the upstream and fails the stream as soon as the
 * count passes `limit`, so an oversized chunked body is cut off without being read to its end.
 */
export class ByteLimit extends Transform {
  bytes = 0
  readonly #limit: number

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
    callback(null, chunk)
  }
}
