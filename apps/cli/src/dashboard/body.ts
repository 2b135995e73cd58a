/** The JSON body of an API write: small, an object, or a 400. */
import type { IncomingMessage } from 'node:http'
import { ApiError } from './respond.js'

// Every write body is a name or a token: 4 KiB is generous, and nothing larger is read into memory.
const MAX_BODY = 4096

export async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_BODY) throw new ApiError(413, 'invalid_request', `Request body over ${MAX_BODY} bytes`)
    chunks.push(chunk)
  }
  if (size === 0) return {}
  let value: unknown
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw new ApiError(400, 'invalid_request', 'Request body is not valid JSON')
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ApiError(400, 'invalid_request', 'Request body must be a JSON object')
  }
  return value as Record<string, unknown>
}
