import { Transform, type TransformCallback } from 'node:stream'
import type { ChunkFilter } from './exchange.js'

/**
 * How far a compressed answer may expand once past its floor: 100 times the compressed bytes
 * received. Text compresses 3 to 30-fold (JSON, logs, HTML); a bomb expands a thousandfold and
 * more (1 MB of gzip to 1 GB), which the gate would decode, scan and send at its own cost.
 */
export const MAX_EXPANSION = 100

/** Raised into a compressed answer whose decoded bytes passed the bound (see `ExpansionLimit`). */
export class ResponseTooLargeError extends Error {
  /** Decoded bytes when it stopped. */
  readonly decoded: number
  constructor(decoded: number, floor: number) {
    super(
      `The upstream's compressed response decoded to more than ${floor} bytes and ${MAX_EXPANSION} times its compressed size; it was cut off`,
    )
    this.name = 'ResponseTooLargeError'
    this.decoded = decoded
  }
}

/** Counts the compressed bytes of an answer as the exchange hands them over (no stream of its own). */
export class CompressedCount implements ChunkFilter {
  bytes = 0

  push(chunk: Uint8Array): Buffer {
    this.bytes += chunk.length
    return chunk as Buffer
  }

  end(): Buffer {
    return EMPTY
  }
}

const EMPTY = Buffer.alloc(0)

/**
 * Follows a decoder: fails the stream once its output passes both `floor` bytes and MAX_EXPANSION
 * times the compressed bytes `compressed` counted, so a compression bomb costs the gate a bounded
 * multiple of what the upstream sent. The decoder's 16 KiB output chunks keep the overshoot small.
 */
export class ExpansionLimit extends Transform {
  readonly #compressed: CompressedCount
  readonly #floor: number
  #decoded = 0

  constructor(compressed: CompressedCount, floor: number) {
    super()
    this.#compressed = compressed
    this.#floor = floor
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#decoded += chunk.length
    if (this.#decoded > this.#floor && this.#decoded > MAX_EXPANSION * this.#compressed.bytes) {
      callback(new ResponseTooLargeError(this.#decoded, this.#floor))
      return
    }
    callback(null, chunk)
  }
}
