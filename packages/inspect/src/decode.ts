import { Transform, type TransformCallback } from 'node:stream'
import {
  brotliDecompress,
  brotliDecompressSync,
  createBrotliDecompress,
  createGunzip,
  createInflate,
  createInflateRaw,
  gunzip,
  gunzipSync,
  inflate,
  inflateRaw,
  inflateRawSync,
  inflateSync,
  type ZlibOptions,
} from 'node:zlib'

export type DecodeErrorCode = 'corrupt' | 'too_large' | 'unsupported'

/**
 * A body that cannot be inspected: corrupt compressed data, output over the size limit (a zip bomb
 * stops there), or a content coding this library does not know. The message never holds body bytes.
 */
export class DecodeError extends Error {
  readonly code: DecodeErrorCode
  readonly encoding: string
  constructor(code: DecodeErrorCode, encoding: string, message: string) {
    super(message)
    this.name = 'DecodeError'
    this.code = code
    this.encoding = encoding
  }
}

type ZlibSync = (buf: Uint8Array, options: ZlibOptions) => Buffer
type ZlibCall = (
  buf: Uint8Array,
  options: ZlibOptions,
  cb: (error: Error | null, out: Buffer) => void,
) => void

/** One content coding's decoders: whole body (blocking or on the thread pool) and streaming. */
interface Codec {
  sync: ZlibSync
  async: ZlibCall
  stream: () => Transform
  /** Tried when the first decoder finds the body corrupt. */
  fallback?: { sync: ZlibSync; async: ZlibCall }
}

/** Whether two bytes open a zlib stream (RFC 1950: method 8, header check a multiple of 31). */
function isZlibHeader(first: number, second: number): boolean {
  return (first & 0x0f) === 8 && first >> 4 <= 7 && ((first << 8) | second) % 31 === 0
}

/**
 * HTTP `deflate` as a stream: the zlib format, or raw deflate when the first two bytes are not a
 * zlib header — the choice the whole-body decoders make by trying one then the other. The inner
 * inflater's output is pushed as it comes; the next chunk is taken once it has processed this one.
 */
class DeflateDecoder extends Transform {
  #inner: Transform | null = null
  /** The first byte, while it is all there is. */
  #first: Buffer = Buffer.alloc(0)

  #start(head: Buffer): Transform {
    const inner =
      head.length >= 2 && !isZlibHeader(head[0] as number, head[1] as number)
        ? createInflateRaw()
        : createInflate()
    inner.on('data', (chunk: Buffer) => this.push(chunk))
    inner.once('error', (error) => this.destroy(error))
    this.#inner = inner
    return inner
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let inner = this.#inner
    if (inner === null) {
      const head = this.#first.length === 0 ? chunk : Buffer.concat([this.#first, chunk])
      if (head.length < 2) {
        this.#first = head
        callback()
        return
      }
      inner = this.#start(head)
      this.#first = Buffer.alloc(0)
      chunk = head
    }
    inner.write(chunk, () => callback())
  }

  override _flush(callback: TransformCallback): void {
    let inner = this.#inner
    let rest: Buffer | undefined
    if (inner === null) {
      // A body of one byte or none: zlib's answer (an error, or nothing for an empty body).
      rest = this.#first
      inner = this.#start(rest)
    }
    inner.once('end', () => callback())
    inner.end(rest)
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#inner?.destroy()
    callback(error)
  }
}

const GZIP: Codec = { sync: gunzipSync, async: gunzip as ZlibCall, stream: createGunzip }

/**
 * The one map from a coding name to its decoders; every decode function reads it. `x-gzip` is gzip
 * (RFC 9110 §8.4.1.3). HTTP "deflate" is the zlib format, but some servers send raw deflate.
 */
const CODECS: ReadonlyMap<string, Codec> = new Map([
  ['gzip', GZIP],
  ['x-gzip', GZIP],
  ['br', { sync: brotliDecompressSync, async: brotliDecompress as ZlibCall, stream: createBrotliDecompress }],
  [
    'deflate',
    {
      sync: inflateSync,
      async: inflate as ZlibCall,
      stream: () => new DeflateDecoder(),
      fallback: { sync: inflateRawSync, async: inflateRaw as ZlibCall },
    },
  ],
])

/**
 * Registered coding names (IANA HTTP Content Coding and Transfer Coding registries): safe to quote
 * back in an error, unlike an arbitrary header value, which may echo anything — a secret included.
 */
const REGISTERED: ReadonlySet<string> = new Set([
  'aes128gcm',
  'br',
  'chunked',
  'compress',
  'dcb',
  'dcz',
  'deflate',
  'exi',
  'gzip',
  'identity',
  'pack200-gzip',
  'trailers',
  'x-compress',
  'x-gzip',
  'zstd',
])

/** `"zstd"` for a registered coding name, `an unknown coding` for anything else. */
export function describeCoding(coding: string): string {
  return REGISTERED.has(coding) ? `"${coding}"` : 'an unknown coding'
}

/**
 * The codings a `Content-Encoding` or `Transfer-Encoding` field lists, in the order applied, from
 * every value of every line of it (repeated lines form one list, RFC 9110 §5.3), lower-cased
 * (coding names are case-insensitive, §8.4.1). Empty list items are skipped (§5.6.1: recipients
 * ignore them), and so is `identity`, which means "no coding".
 */
export function listCodings(values: string | readonly string[] | null | undefined): string[] {
  const out: string[] = []
  if (values === null || values === undefined) return out
  for (const value of typeof values === 'string' ? [values] : values) {
    for (const item of value.split(',')) {
      const coding = item.trim().toLowerCase()
      if (coding !== '' && coding !== 'identity') out.push(coding)
    }
  }
  return out
}

/** True for a content coding `decodeBody`, `decodeBodyAsync` and `createDecoder` can undo. */
export function isDecodable(coding: string): boolean {
  return CODECS.has(coding)
}

function isTooLarge(error: unknown): boolean {
  return error instanceof RangeError || (error as { code?: unknown } | null)?.code === 'ERR_BUFFER_TOO_LARGE'
}

function unsupported(coding: string): DecodeError {
  return new DecodeError('unsupported', coding, `unsupported content encoding ${describeCoding(coding)}`)
}

function asDecodeError(error: unknown, coding: string, maxBytes: number): DecodeError {
  if (error instanceof DecodeError) return error
  if (isTooLarge(error)) {
    return new DecodeError('too_large', coding, `decoded ${coding} body exceeds ${maxBytes} bytes`)
  }
  return new DecodeError('corrupt', coding, `corrupt ${coding} body`)
}

function decodeOne(body: Uint8Array, coding: string, maxBytes: number): Uint8Array {
  if (coding === 'identity') return body
  const codec = CODECS.get(coding)
  if (codec === undefined) throw unsupported(coding)
  const options = { maxOutputLength: Math.max(1, maxBytes) }
  try {
    try {
      return codec.sync(body, options)
    } catch (error) {
      if (codec.fallback === undefined || isTooLarge(error)) throw error
      return codec.fallback.sync(body, options)
    }
  } catch (error) {
    throw asDecodeError(error, coding, maxBytes)
  }
}

function checkLimit(maxBytes: number): void {
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0)
    throw new TypeError('maxBytes must be a whole number >= 0')
}

/**
 * Undo a `Content-Encoding` (one coding or a comma-separated list, applied in order, so undone in
 * reverse): gzip, x-gzip, deflate, br, identity. Decompression stops as soon as the output would
 * exceed `maxBytes` (DecodeError `too_large`); corrupt input is DecodeError `corrupt`; an unknown
 * coding is DecodeError `unsupported`. An identity body longer than `maxBytes` is `too_large` too.
 * Synchronous: it holds the event loop for as long as the output takes — a server decoding what
 * a client sent wants `decodeBodyAsync`.
 */
export function decodeBody(
  body: Uint8Array,
  contentEncoding: string | null | undefined,
  maxBytes: number,
): Uint8Array {
  checkLimit(maxBytes)
  const codings = listCodings(contentEncoding)
  let out = body
  for (let i = codings.length - 1; i >= 0; i--) out = decodeOne(out, codings[i] ?? 'identity', maxBytes)
  if (out.length > maxBytes) {
    throw new DecodeError('too_large', 'identity', `body exceeds ${maxBytes} bytes`)
  }
  return out
}

function run(fn: ZlibCall, body: Uint8Array, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    fn(body, { maxOutputLength: Math.max(1, maxBytes) }, (error, out) =>
      error ? reject(error) : resolve(out),
    )
  })
}

async function decodeOneAsync(body: Uint8Array, coding: string, maxBytes: number): Promise<Uint8Array> {
  const codec = CODECS.get(coding)
  if (codec === undefined) throw unsupported(coding)
  try {
    try {
      return await run(codec.async, body, maxBytes)
    } catch (error) {
      if (codec.fallback === undefined || isTooLarge(error)) throw error
      return await run(codec.fallback.async, body, maxBytes)
    }
  } catch (error) {
    throw asDecodeError(error, coding, maxBytes)
  }
}

/**
 * `decodeBody` without holding the event loop: zlib works on the thread pool, chunk by chunk, and
 * stops (with `too_large`) as soon as the output passes `maxBytes` — a 15-byte brotli bomb costs
 * `maxBytes` of work, not the 8 MiB it expands to. `codings` as `listCodings` returns them.
 */
export async function decodeBodyAsync(
  body: Uint8Array,
  codings: readonly string[],
  maxBytes: number,
): Promise<Uint8Array> {
  checkLimit(maxBytes)
  let out = body
  for (let i = codings.length - 1; i >= 0; i--) {
    const coding = codings[i] as string
    if (coding !== 'identity') out = await decodeOneAsync(out, coding, maxBytes)
  }
  if (out.length > maxBytes) {
    throw new DecodeError('too_large', 'identity', `body exceeds ${maxBytes} bytes`)
  }
  return out
}

/** A streaming decoder for one content coding, or null for one this library does not decode. */
export function createDecoder(coding: string): Transform | null {
  return CODECS.get(coding)?.stream() ?? null
}
