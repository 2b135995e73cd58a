import type { Readable } from 'node:stream'
import { ByteCollector } from '@aegis/proxy/internal'

/** The default limit on an upstream response body returned through MCP: 1 MiB. */
export const DEFAULT_MAX_RESPONSE_BYTES = 1_048_576

/** What `aegis_proxy_request` returns for a forwarded request. */
export interface ProxyResponse {
  [key: string]: unknown
  status: number
  headers: Record<string, string | string[]>
  /** The body as UTF-8 text, or base64 when `bodyEncoding` says so. */
  body: string
  bodyEncoding: 'utf8' | 'base64'
}

export type BoundedBody = { ok: true; bytes: Buffer } | { ok: false; bytesRead: number }

/**
 * Reads a response body up to `limit` bytes. Past the limit the stream is destroyed (the upstream
 * connection is dropped, nothing more is read) and the result says so. Stream errors (and a
 * cancellation through `signal`) are thrown.
 */
export async function readBounded(body: Readable, limit: number, signal?: AbortSignal): Promise<BoundedBody> {
  // A client that cancels the call drops the upstream response at once.
  const onAbort = () => body.destroy(new Error('The tool call was cancelled'))
  if (signal?.aborted) onAbort()
  signal?.addEventListener('abort', onAbort, { once: true })
  try {
    return await readChunks(body, limit)
  } finally {
    signal?.removeEventListener('abort', onAbort)
  }
}

async function readChunks(body: Readable, limit: number): Promise<BoundedBody> {
  // One growing buffer: an upstream dripping 1-byte chunks costs the bytes, not a Buffer each.
  const collected = new ByteCollector(limit)
  for await (const chunk of body) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer)
    if (!collected.append(buffer)) {
      body.destroy()
      return { ok: false, bytesRead: collected.size + buffer.length }
    }
  }
  return { ok: true, bytes: collected.bytes() }
}

const TEXT_TYPES =
  /^(text\/|application\/([\w.+-]*\+)?(json|xml|javascript|ecmascript|x-www-form-urlencoded|graphql|yaml|x-ndjson)\b)/i

/** True for content types whose bodies are text (JSON, XML, text/*, …) or when none is given. */
export function isTextContentType(contentType: string | undefined): boolean {
  if (contentType === undefined || contentType.trim() === '') return true
  return TEXT_TYPES.test(contentType.trim())
}

const decoder = new TextDecoder('utf-8', { fatal: true })

/**
 * The body as an agent reads it: UTF-8 text for text content types that decode cleanly, base64
 * for anything else (images, archives, or bytes that are not valid UTF-8).
 */
export function encodeBody(
  bytes: Buffer,
  contentType: string | undefined,
): Pick<ProxyResponse, 'body' | 'bodyEncoding'> {
  if (isTextContentType(contentType)) {
    try {
      return { body: decoder.decode(bytes), bodyEncoding: 'utf8' }
    } catch {
      // not valid UTF-8: fall through to base64
    }
  }
  return { body: bytes.toString('base64'), bodyEncoding: 'base64' }
}

/** One header value from a Node-style header record. */
export function headerValue(headers: Record<string, string | string[]>, name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}
