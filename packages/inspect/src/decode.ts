import { brotliDecompressSync, gunzipSync, inflateRawSync, inflateSync } from 'node:zlib'

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

function isTooLarge(error: unknown): boolean {
  return error instanceof RangeError || (error as { code?: unknown } | null)?.code === 'ERR_BUFFER_TOO_LARGE'
}

function decodeOne(body: Uint8Array, coding: string, maxBytes: number): Uint8Array {
  const options = { maxOutputLength: Math.max(1, maxBytes) }
  try {
    switch (coding) {
      case 'identity':
        return body
      case 'gzip':
      case 'x-gzip':
        return gunzipSync(body, options)
      case 'br':
        return brotliDecompressSync(body, options)
      case 'deflate':
        // HTTP "deflate" is the zlib format, but some servers send raw deflate.
        try {
          return inflateSync(body, options)
        } catch (error) {
          if (isTooLarge(error)) throw error
          return inflateRawSync(body, options)
        }
      default:
        throw new DecodeError('unsupported', coding, `unsupported content encoding "${coding.slice(0, 40)}"`)
    }
  } catch (error) {
    if (error instanceof DecodeError) throw error
    if (isTooLarge(error)) {
      throw new DecodeError('too_large', coding, `decoded ${coding} body exceeds ${maxBytes} bytes`)
    }
    throw new DecodeError('corrupt', coding, `corrupt ${coding} body`)
  }
}

/**
 * Undo a `Content-Encoding` (one coding or a comma-separated list, applied in order, so undone in
 * reverse): gzip, x-gzip, deflate, br, identity. Decompression stops as soon as the output would
 * exceed `maxBytes` (DecodeError `too_large`); corrupt input is DecodeError `corrupt`; an unknown
 * coding is DecodeError `unsupported`. An identity body longer than `maxBytes` is `too_large` too.
 */
export function decodeBody(
  body: Uint8Array,
  contentEncoding: string | null | undefined,
  maxBytes: number,
): Uint8Array {
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0)
    throw new TypeError('maxBytes must be a whole number >= 0')
  const codings = (contentEncoding ?? '')
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '')
  let out = body
  for (let i = codings.length - 1; i >= 0; i--) out = decodeOne(out, codings[i] ?? 'identity', maxBytes)
  if (out.length > maxBytes) {
    throw new DecodeError('too_large', 'identity', `body exceeds ${maxBytes} bytes`)
  }
  return out
}
